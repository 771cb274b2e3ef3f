// What each guide's quick-start example must answer, whatever the framework (see e2e-packed.mjs).
// Each check gets the running example's base URL and throws when the example misbehaves.

function expectEqual(actual, expected, what) {
  if (actual !== expected)
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** A local upstream that answers every request `500`, counting them. */
async function failingUpstream() {
  const { createServer } = await import('node:http');
  const upstream = { calls: 0 };
  const server = createServer((_req, res) => {
    upstream.calls++;
    res.writeHead(500, { 'content-type': 'text/plain' }).end('orders is down');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${String(server.address().port)}`;
  upstream.close = () => new Promise((resolve) => server.close(resolve));
  return upstream;
}

/** A local identity provider: an ES256 key, its JWKS over HTTP, and tokens signed with it. */
async function identityProvider() {
  const { createRequire } = await import('node:module');
  const { createServer } = await import('node:http');
  // jose is the jwt-cache package's dependency, not the workspace root's.
  const jose = await import(
    createRequire(new URL('../packages/jwt-cache/package.json', import.meta.url)).resolve('jose')
  );
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'e2e-1', alg: 'ES256', use: 'sig' };
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${String(server.address().port)}`;
  const issuer = `${origin}/`;
  return {
    env: { ISSUER: issuer, JWKS_URL: `${origin}/jwks.json` },
    state: {
      token: (claims) =>
        new jose.SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: 'e2e-1' })
          .setIssuer(issuer)
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(privateKey),
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The samples of a Prometheus text scrape, each `{ name, labels, value }`. */
function prometheusSamples(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function sampleValue(samples, name, labels) {
  const keys = Object.keys(labels);
  const found = samples.find(
    (s) =>
      s.name === name && Object.keys(s.labels).length === keys.length && keys.every((k) => s.labels[k] === labels[k]),
  );
  return found?.value;
}

export const checks = {
  'jwt-cache': {
    setup: identityProvider,
    async run(base, idp) {
      const anonymous = await fetch(`${base}/me`);
      expectEqual(anonymous.status, 401, 'GET /me without a token');
      expectEqual(anonymous.headers.get('www-authenticate'), 'Bearer realm="orders"', 'the challenge');
      const good = await fetch(`${base}/me`, {
        headers: { authorization: `Bearer ${await idp.token({ sub: 'alice', aud: 'orders-api' })}` },
      });
      expectEqual(good.status, 200, 'GET /me with a valid token');
      expectEqual((await good.json()).subject, 'alice', 'the subject the handler read');
      const otherAudience = await fetch(`${base}/me`, {
        headers: { authorization: `Bearer ${await idp.token({ sub: 'alice', aud: 'billing' })}` },
      });
      expectEqual(otherAudience.status, 401, 'a token for another audience');
      expectEqual((await otherAudience.json()).code, 'ERR_JWT_CACHE_CLAIM', 'its code');
    },
  },

  'circuit-breaker': {
    async setup() {
      const upstream = await failingUpstream();
      return { env: { ORDERS_URL: upstream.url }, state: upstream, close: upstream.close };
    },
    async run(base, upstream) {
      for (let i = 1; i <= 3; i++) {
        expectEqual((await fetch(`${base}/orders/42`)).status, 500, `call ${String(i)} to a failing upstream`);
      }
      // An outcome is recorded when the response has gone out; on a loaded machine the next call can
      // overtake it, so the breaker is open by the fifth call at the latest, and then stays open.
      let refused;
      for (let i = 4; i <= 5 && refused === undefined; i++) {
        const res = await fetch(`${base}/orders/42`);
        if (res.status === 503) refused = res;
        else expectEqual(res.status, 500, `call ${String(i)}`);
      }
      if (refused === undefined) throw new Error('the breaker did not open after three failures in a row');
      if (!(Number(refused.headers.get('retry-after')) >= 1)) throw new Error('no Retry-After on the 503');
      const reached = upstream.calls;
      expectEqual((await fetch(`${base}/orders/42`)).status, 503, 'a call while open');
      expectEqual(upstream.calls, reached, 'calls that reached the upstream while open');
      if (reached > 4) throw new Error(`${String(reached)} calls reached the upstream`);
    },
  },

  async telemetry(base) {
    const statuses = [];
    for (const name of ['ada', 'grace', 'ada', 'linus']) statuses.push((await fetch(`${base}/hello/${name}`)).status);
    expectEqual(statuses.join(','), '200,200,200,429', 'four calls with room for three');
    const scrape = await fetch(`${base}/metrics`);
    expectEqual(scrape.status, 200, 'GET /metrics');
    const text = await scrape.text();
    const samples = prometheusSamples(text);
    const requests = (status_class) =>
      sampleValue(samples, 'portcullis_http_request_duration_seconds_count', {
        method: 'GET',
        route: 'hello',
        status_class,
      });
    expectEqual(requests('2xx'), 3, 'requests to the hello route answered 2xx');
    expectEqual(requests('4xx'), 1, 'requests to the hello route answered 4xx (the 429 keeps its route)');
    const decisions = (result, limited_by) =>
      sampleValue(samples, 'portcullis_ratelimit_decisions_total', {
        limiter: 'api',
        result,
        source: 'store',
        limited_by,
      });
    expectEqual(decisions('allowed', ''), 3, 'allowed decisions');
    expectEqual(decisions('denied', 'perMinute'), 1, 'denied decisions');
    if (/ada|grace|linus/.test(text)) throw new Error('a path segment a client sent became a label');
  },

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

  async router(base) {
    const user = await fetch(`${base}/users/42`);
    expectEqual(user.status, 200, 'GET /users/42');
    const matched = await user.json();
    expectEqual(matched.route, 'user', 'the route the handler read');
    expectEqual(matched.params?.id, '42', 'its param');
    const nowhere = await fetch(`${base}/nowhere`);
    expectEqual(nowhere.status, 404, 'GET /nowhere');
    expectEqual(nowhere.headers.get('content-type')?.split(';')[0], 'application/problem+json', 'the 404 type');
    const wrongMethod = await fetch(`${base}/users/42`, { method: 'DELETE' });
    expectEqual(wrongMethod.status, 405, 'DELETE /users/42');
    expectEqual(wrongMethod.headers.get('allow'), 'GET, HEAD', 'the Allow header');
    expectEqual((await fetch(`${base}/users/a%2Fb`)).status, 400, 'an encoded slash in the path');
    // The variant is sticky per user, in the context and in the header the handler reads; the
    // client's own x-variant is replaced.
    const variants = new Set();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}/checkout`, {
        method: 'POST',
        headers: { 'x-user-id': 'user-7', 'x-variant': 'spoofed' },
      });
      expectEqual(res.status, 200, 'POST /checkout');
      const body = await res.json();
      expectEqual(body.route, 'checkout', 'the split route');
      if (body.variant !== 'stable' && body.variant !== 'canary') throw new Error(`variant ${String(body.variant)}`);
      expectEqual(body.upstream, body.variant, 'the x-variant header the handler read');
      variants.add(body.variant);
    }
    expectEqual(variants.size, 1, 'distinct variants for one user');
    for (const [override, variant] of [
      ['always', 'canary'],
      ['never', 'stable'],
    ]) {
      const res = await fetch(`${base}/checkout`, { method: 'POST', headers: { 'x-canary': override } });
      const body = await res.json();
      expectEqual(body.variant, variant, `x-canary: ${override}`);
      expectEqual(body.upstream, variant, `x-canary: ${override}, upstream`);
    }
  },

  async 'dataloader-guard'(base) {
    const first = await fetch(`${base}/users?ids=1,2,3`);
    expectEqual(first.status, 200, 'GET /users?ids=1,2,3');
    const body = await first.json();
    expectEqual(body.users.map((u) => u.name).join(), 'user 1,user 2,user 3', 'the users answered');
    expectEqual(body.backendCalls, 1, 'backend calls for three ids (one batch)');
    const cached = await (await fetch(`${base}/users?ids=3,2,1`)).json();
    expectEqual(cached.backendCalls, 1, 'backend calls after the same ids again (shared cache)');
    const many = Array.from({ length: 600 }, (_, i) => `x${String(i)}`).join(',');
    const refused = await fetch(`${base}/users?ids=${many}`);
    expectEqual(refused.status, 422, 'a request for 600 ids (budget 500)');
    expectEqual((await refused.json()).code, 'ERR_PORTCULLIS_DATALOADER_TOO_MANY_KEYS', 'its code');
    const after = await (await fetch(`${base}/users?ids=4`)).json();
    expectEqual(after.backendCalls, 2, 'backend calls after the refused request (it sent none)');
  },

  async health(base) {
    const token = { authorization: 'Bearer quickstart-health-token' };
    const overall = await fetch(`${base}/health`);
    expectEqual(overall.status, 200, 'GET /health (a non-critical check failing: warn)');
    expectEqual(overall.headers.get('content-type'), 'application/health+json', 'its content type');
    expectEqual(overall.headers.get('cache-control'), 'no-store', 'its cache-control');
    expectEqual(JSON.stringify(await overall.json()), '{"status":"warn"}', 'the public body');
    const one = await fetch(`${base}/health/ready/recommendations`);
    expectEqual(one.status, 503, 'GET /health/ready/recommendations (its own status)');
    const detailed = await (await fetch(`${base}/health`, { headers: token })).json();
    expectEqual(detailed.checks.db[0].status, 'pass', 'the db check, for an admitted caller');
    expectEqual(detailed.checks.recommendations[0].status, 'fail', 'the recommendations check');
    expectEqual(detailed.checks.recommendations[0].output, undefined, 'no output without ?verbose');
    const verbose = await (await fetch(`${base}/health?verbose`, { headers: token })).json();
    expectEqual(verbose.checks.recommendations[0].output, 'connect ECONNREFUSED 10.0.3.7:8080', 'the output');
    expectEqual((await fetch(`${base}/health/live`)).status, 200, 'GET /health/live');
    expectEqual((await fetch(`${base}/health`, { method: 'POST' })).status, 405, 'POST /health');
    expectEqual((await fetch(`${base}/orders`)).status, 200, 'GET /orders (the app, past the endpoints)');
  },

  async core(base) {
    const anonymous = await fetch(`${base}/hello`);
    expectEqual(anonymous.status, 401, 'GET /hello without x-api-key');
    const keyed = await fetch(`${base}/hello`, { headers: { 'x-api-key': 'k-123' } });
    expectEqual(keyed.status, 200, 'GET /hello with x-api-key');
    expectEqual((await keyed.json()).apiKey, 'k-123', 'the context the handler read');
  },
};
