/**
 * A header name as the servers behind a gateway may read it: lower case, with `_` read as `-`.
 * CGI, WSGI, Rack and many proxies turn both `X-User-Id` and `X_User_Id` into `HTTP_X_USER_ID`,
 * so a header a guard strips or sets must be stripped in every spelling that reads the same.
 */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes('_') ? lower.replaceAll('_', '-') : lower;
}

/** What a `continue` verdict changes in the request headers, ready to apply. */
export interface HeaderChange {
  /** Every name it protects, by {@link headerKey}: those it strips and those it sets. */
  readonly keys: ReadonlySet<string>;
  /** Their lengths: a name of another length is not one of them (no lower-casing needed). */
  readonly lengths: ReadonlySet<number>;
  /** The headers to set afterwards (lower-case names, as `Headers` iterates them). */
  readonly set: readonly (readonly [string, string])[];
}

// A guard usually hands the same (frozen) strip list to every verdict: its keys are worked out once.
const stripKeys = new WeakMap<readonly string[], ReadonlySet<string>>();
const keyLengths = new WeakMap<ReadonlySet<string>, ReadonlySet<number>>();
const NONE: readonly (readonly [string, string])[] = Object.freeze([]);

/**
 * The change a verdict's `stripUpstreamHeaders` and `upstreamHeaders` ask for: a header a guard
 * sets replaces every client-sent spelling of it too. `undefined` when there is nothing to do.
 */
export function headerChange(
  strip: readonly string[] | undefined,
  upstream: Headers | undefined,
): HeaderChange | undefined {
  let keys: ReadonlySet<string> | undefined;
  if (strip !== undefined) {
    keys = stripKeys.get(strip);
    if (keys === undefined) {
      keys = new Set(strip.map(headerKey));
      stripKeys.set(strip, keys);
    }
  }
  const set = upstream === undefined ? NONE : [...upstream];
  let extended: Set<string> | undefined;
  for (const [name] of set) {
    const key = headerKey(name);
    if (keys?.has(key) !== true && extended?.has(key) !== true) (extended ??= new Set(keys)).add(key);
  }
  const all = extended ?? keys;
  if (all === undefined || (all.size === 0 && set.length === 0)) return undefined;
  let lengths = keyLengths.get(all);
  if (lengths === undefined) {
    lengths = new Set([...all].map((key) => key.length));
    if (extended === undefined) keyLengths.set(all, lengths);
  }
  return { keys: all, lengths, set };
}

/** True when `name` (any spelling) is one the change protects. */
export function isProtected(change: HeaderChange, name: string): boolean {
  return change.lengths.has(name.length) && change.keys.has(headerKey(name));
}
