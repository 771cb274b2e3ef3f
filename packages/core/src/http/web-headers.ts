import { headerChange, isProtected } from './header-names.js';

/**
 * Applies a `continue` verdict's request-header changes to a Web `Headers` object in place: first
 * every header whose name, ignoring case and `_` versus `-`, is one the verdict strips or sets is
 * removed (so `X_User_Id` goes with `x-user-id`), then the upstream headers are set. Throws a
 * `TypeError` when the headers are immutable (as on some runtimes' incoming requests); the caller
 * then applies them to a copy.
 */
export function applyWebUpstreamHeaders(
  headers: Headers,
  strip: readonly string[] | undefined,
  upstream: Headers | undefined,
): void {
  const change = headerChange(strip, upstream);
  if (change === undefined) return;
  // Collected first: deleting while iterating a Headers object skips entries.
  const doomed: string[] = [];
  for (const name of headers.keys()) if (isProtected(change, name)) doomed.push(name);
  for (const name of doomed) headers.delete(name);
  for (const [name, value] of change.set) headers.set(name, value);
}
