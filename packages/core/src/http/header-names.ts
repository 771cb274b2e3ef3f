/**
 * A header name as the servers behind a gateway may read it: lower case, with `_` read as `-`.
 * CGI, WSGI, Rack and many proxies turn both `X-User-Id` and `X_User_Id` into `HTTP_X_USER_ID`,
 * so a header a guard strips or sets must be stripped in every spelling that reads the same.
 */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes('_') ? lower.replaceAll('_', '-') : lower;
}

/**
 * The names a `continue` verdict protects, by {@link headerKey}: those it strips and those it sets
 * (a header set by a guard replaces every client-sent spelling of it). `undefined` when none.
 */
export function protectedHeaderKeys(
  strip: readonly string[] | undefined,
  upstream: Headers | undefined,
): ReadonlySet<string> | undefined {
  if (strip === undefined && upstream === undefined) return undefined;
  const keys = new Set<string>();
  if (strip !== undefined) for (const name of strip) keys.add(headerKey(name));
  if (upstream !== undefined) for (const name of upstream.keys()) keys.add(headerKey(name));
  return keys.size === 0 ? undefined : keys;
}
