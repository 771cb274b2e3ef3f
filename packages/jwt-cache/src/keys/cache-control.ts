/**
 * The freshness a `Cache-Control` header grants, in ms: `max-age` (the first one; seconds, digits
 * only), `0` for `no-store` / `no-cache`, `undefined` when it says neither (or is absent).
 * The caller clamps it to its bounds.
 */
export function maxAgeMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  let maxAge: number | undefined;
  for (const part of header.split(',')) {
    const directive = part.trim().toLowerCase();
    if (directive === 'no-store' || directive === 'no-cache') return 0;
    if (maxAge === undefined && directive.startsWith('max-age=')) {
      const value = directive.slice('max-age='.length).replace(/^"(.*)"$/, '$1');
      if (/^\d{1,12}$/.test(value)) maxAge = Number(value) * 1000;
    }
  }
  return maxAge;
}
