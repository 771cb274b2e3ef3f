/**
 * Applies a `continue` verdict's request-header changes to a Web `Headers` object in place: strip
 * first, then set. Throws a `TypeError` when the headers are immutable (as on some runtimes'
 * incoming requests); the caller then applies them to a copy.
 */
export function applyWebUpstreamHeaders(
  headers: Headers,
  strip: readonly string[] | undefined,
  upstream: Headers | undefined,
): void {
  if (strip !== undefined) for (const name of strip) headers.delete(name);
  if (upstream !== undefined) for (const [name, value] of upstream) headers.set(name, value);
}
