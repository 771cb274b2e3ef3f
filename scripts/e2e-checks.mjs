// What each guide's quick-start example must answer, whatever the framework (see e2e-packed.mjs).
// Each check gets the running example's base URL and throws when the example misbehaves.

function expectEqual(actual, expected, what) {
  if (actual !== expected)
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

export const checks = {
  async ratelimit(base) {
    for (let i = 4; i >= 0; i--) {
      const allowed = await fetch(`${base}/`);
      expectEqual(allowed.status, 200, `request ${String(5 - i)} of 5`);
      expectEqual((await allowed.json()).remaining, i, 'the remaining count the handler read');
      if (!allowed.headers.get('ratelimit-policy')?.includes('"perMinute";q=5;w=60')) {
        throw new Error(`RateLimit-Policy: ${String(allowed.headers.get('ratelimit-policy'))}`);
      }
    }
    const denied = await fetch(`${base}/`);
    expectEqual(denied.status, 429, 'the sixth request');
    expectEqual(denied.headers.get('content-type')?.split(';')[0], 'application/problem+json', 'its content type');
    const retryAfter = Number(denied.headers.get('retry-after'));
    if (!(retryAfter >= 1 && retryAfter <= 12)) throw new Error(`Retry-After: ${String(retryAfter)}`);
  },

  async core(base) {
    const anonymous = await fetch(`${base}/hello`);
    expectEqual(anonymous.status, 401, 'GET /hello without x-api-key');
    const keyed = await fetch(`${base}/hello`, { headers: { 'x-api-key': 'k-123' } });
    expectEqual(keyed.status, 200, 'GET /hello with x-api-key');
    expectEqual((await keyed.json()).apiKey, 'k-123', 'the context the handler read');
  },
};
