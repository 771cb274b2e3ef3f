// What each guide's quick-start example must answer, whatever the framework (see e2e-packed.mjs).
// Each check gets the running example's base URL and throws when the example misbehaves.

function expectEqual(actual, expected, what) {
  if (actual !== expected)
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

export const checks = {
  async core(base) {
    const anonymous = await fetch(`${base}/hello`);
    expectEqual(anonymous.status, 401, 'GET /hello without x-api-key');
    const keyed = await fetch(`${base}/hello`, { headers: { 'x-api-key': 'k-123' } });
    expectEqual(keyed.status, 200, 'GET /hello with x-api-key');
    expectEqual((await keyed.json()).apiKey, 'k-123', 'the context the handler read');
  },
};
