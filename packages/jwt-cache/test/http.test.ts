import { fc } from '@fast-check/vitest';
import { generateKeyPair } from '@portcullis/testkit';
import { describe, expect, onTestFinished, test } from 'vitest';
import type { JwtGuardOptions } from '../src/index.js';
import { HARNESSES, jwtMounts, rawGet, type Harness, type Served } from './http/harness.js';
import { serveViews, type HeaderViews } from '@portcullis/testkit/frameworks';
import { b64, fixture, sign, T0, type Fixture } from './support.js';

const key = generateKeyPair('ES256', 'http-1');
const PROBLEM_JSON = 'application/problem+json';

const FORWARD: Pick<JwtGuardOptions, 'forwardClaims' | 'forwardPayload'> = {
  forwardClaims: {
    'x-user-id': 'sub',
    'x-tenant-id': 'org.id',
    'x-roles': ['https://example.com/claims', 'roles'],
    'x-display-name': 'name',
  },
  forwardPayload: 'x-jwt-payload',
};

const CLAIMS = {
  sub: 'user-42',
  org: { id: 'acme' },
  'https://example.com/claims': { roles: ['reader', 'writer'] },
  name: 'Zoë',
  scope: 'orders:read profile',
};

describe.each(HARNESSES)('jwtAuth on $name', (fw: Harness) => {
  let f: Fixture;

  async function start(
    options: Omit<JwtGuardOptions, 'verifier'>,
    setup?: Parameters<typeof fixture>[1],
  ): Promise<Served> {
    f = await fixture([key], setup);
    const served = await fw.serve({ verifier: f.verifier, realm: 'api', ...options });
    onTestFinished(() => served.close());
    return served;
  }

  const get = (served: Served, path: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${served.url}${path}`, { headers });
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  test('no token: 401 with a bare Bearer challenge; the handler does not run', async () => {
    const served = await start({});
    const res = await get(served, '/context');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect(res.headers.get('content-type')).toBe(PROBLEM_JSON);
    expect(await res.json()).toEqual({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: 'This request needs an access token',
    });
    // Another scheme is someone else's credential, not a bearer token.
    expect((await get(served, '/context', { authorization: 'Basic dXNlcjpwdw==' })).status).toBe(401);
    expect(served.handled).toEqual([]);
  });

  test('a valid token: the handler sees the verified token and identity in the context', async () => {
    const served = await start({});
    const token = await sign(key, f.clock, CLAIMS);
    for (let i = 0; i < 2; i++) {
      // The second request is a cache hit, answered synchronously by the guard.
      const res = await get(served, '/context', bearer(token));
      expect(res.status).toBe(200);
      const { context } = (await res.json()) as {
        context: { jwt: { payload: { sub: string }; kid: string }; identity: unknown };
      };
      expect(context.jwt).toMatchObject({ payload: { sub: 'user-42' }, kid: 'http-1', alg: 'ES256' });
      expect(context.identity).toEqual({
        subject: 'user-42',
        issuer: 'https://idp.test/',
        scopes: ['orders:read', 'profile'],
      });
    }
    expect(f.jwks.fetchCount).toBe(1);
  });

  test('an expired token: 401 invalid_token saying it expired, with the stable code', async () => {
    const served = await start({});
    const token = await sign(key, f.clock, { exp: T0 / 1000 - 1 });
    const res = await get(served, '/ok', bearer(token));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
    );
    expect(await res.json()).toMatchObject({
      status: 401,
      detail: 'The access token expired',
      code: 'ERR_JWT_CACHE_EXPIRED',
    });
  });

  test('a token expiring while cached is refused once its exp passes', async () => {
    const served = await start({});
    const token = await sign(key, f.clock, { exp: T0 / 1000 + 10 });
    expect((await get(served, '/ok', bearer(token))).status).toBe(200);
    f.clock.advance(10_000);
    const res = await get(served, '/ok', bearer(token));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error_description="The access token expired"');
  });

  test('a forged token: 401 invalid_token; nothing of the token is echoed', async () => {
    const served = await start({});
    const token = await sign(key, f.clock);
    const forged = `${token.slice(0, token.lastIndexOf('.') + 1)}${Buffer.alloc(64, 7).toString('base64url')}`;
    const res = await get(served, '/ok', bearer(forged));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token signature is not valid"',
    );
    expect(await res.json()).toMatchObject({ code: 'ERR_JWT_CACHE_SIGNATURE' });
    const untrusted = await get(served, '/ok', bearer(await sign(key, f.clock, { iss: 'https://evil"\r\nx: y' })));
    expect(untrusted.headers.get('www-authenticate')).toContain(
      'error_description="The access token issuer is not trusted"',
    );
  });

  test('a token signed by a key the issuer does not publish: the description says so, as its code does', async () => {
    const served = await start({});
    const stranger = generateKeyPair('ES256', 'http-unpublished');
    const res = await get(served, '/ok', bearer(await sign(stranger, f.clock)));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'ERR_JWT_CACHE_KEY_NOT_FOUND' });
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="invalid_token"');
    expect(challenge).toContain(
      'error_description="The access token is signed with a key the issuer does not publish"',
    );
    expect(challenge).not.toContain('signature is not valid');
  });

  test('a credential that is not one token: 400 invalid_request', async () => {
    const served = await start({});
    const res = await get(served, '/ok', { authorization: 'Bearer two tokens' });
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="api", error="invalid_request", error_description="/,
    );
    expect(served.handled).toEqual([]);
  });

  test('repeated Authorization headers: 400 invalid_request, even when the first holds a valid token', async () => {
    const served = await start({});
    const valid = await sign(key, f.clock);
    expect((await get(served, '/ok', bearer(valid))).status).toBe(200); // and now cached
    for (const lines of [
      [`Bearer ${valid}`, 'Bearer d.e.f'],
      [`Bearer ${valid}`, `Bearer ${valid}`],
      ['Bearer d.e.f', `Bearer ${valid}`],
      ['Basic dXNlcjpwdw==', `Bearer ${valid}`],
      [`Bearer ${valid}`, 'Basic dXNlcjpwdw=='],
    ]) {
      const res = await rawGet(
        `${served.url}/ok`,
        lines.map((line, i) => [i === 0 ? 'Authorization' : 'authorization', line]),
      );
      expect(res.status, lines.join(' + ')).toBe(400);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_request"/);
    }
    expect(served.handled).toEqual(['/ok']);
  });

  test('a token cookie sent twice: 400 invalid_request, whichever copy holds a valid token', async () => {
    const served = await start({ token: { cookie: 'at' } });
    const valid = await sign(key, f.clock);
    expect((await get(served, '/ok', { cookie: `at=${valid}` })).status).toBe(200);
    for (const cookie of [`at=${valid}; at=x.y.z`, `at=x.y.z; theme=dark; at=${valid}`]) {
      expect((await get(served, '/ok', { cookie })).status).toBe(400);
    }
    const twoLines = await rawGet(`${served.url}/ok`, [
      ['Cookie', `at=${valid}`],
      ['Cookie', 'at=x.y.z'],
    ]);
    expect(twoLines.status).toBe(400);
  });

  test('missing scopes or a failed authorize: 403 insufficient_scope', async () => {
    const served = await start({
      scopes: (req) => (req.path === '/headers' ? ['orders:write'] : ['orders:read']),
      authorize: (jwt) => jwt.payload.sub !== 'banned',
    });
    const token = await sign(key, f.clock, CLAIMS);
    expect((await get(served, '/ok', bearer(token))).status).toBe(200);
    const res = await get(served, '/headers', bearer(token));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token lacks the scope orders:write", scope="orders:write"',
    );
    const banned = await get(served, '/ok', bearer(await sign(key, f.clock, { ...CLAIMS, sub: 'banned' })));
    expect(banned.status).toBe(403);
    expect(banned.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  test('the token may come from a cookie or another header', async () => {
    const served = await start({ token: [{ cookie: 'access_token' }, { header: 'x-access-token' }] });
    const token = await sign(key, f.clock);
    expect((await get(served, '/ok', { cookie: `theme=dark; access_token=${token}` })).status).toBe(200);
    expect((await get(served, '/ok', { 'x-access-token': token })).status).toBe(200);
    expect((await get(served, '/ok', bearer(token))).status).toBe(401);
  });

  test('the key set unreachable (fail closed): 503 without a challenge', async () => {
    const served = await start({});
    await f.jwks.behave({ kind: 'status', status: 500 });
    const res = await get(served, '/ok', bearer(await sign(key, f.clock)));
    expect(res.status).toBe(503);
    expect(res.headers.has('www-authenticate')).toBe(false);
    expect(await res.json()).toMatchObject({ status: 503, code: 'ERR_JWT_CACHE_JWKS_UNAVAILABLE' });
  });

  describe('forwarded identity headers', () => {
    test('claims are forwarded: nested, arrays, percent-encoded non-ASCII, and the raw payload', async () => {
      const served = await start(FORWARD);
      const token = await sign(key, f.clock, CLAIMS);
      const seen = (await (await get(served, '/headers', bearer(token))).json()) as Record<string, string>;
      expect(seen['x-user-id']).toBe('user-42');
      expect(seen['x-tenant-id']).toBe('acme');
      expect(seen['x-roles']).toBe('reader,writer');
      expect(seen['x-display-name']).toBe('Zo%C3%AB');
      expect(seen['x-jwt-payload']).toBe(token.split('.')[1]);
    });

    test('values travel in one reversible encoding: the upstream decodes exactly the signed claim', async () => {
      const served = await start({ forwardClaims: { 'x-user-id': 'sub', 'x-roles': 'roles' } });
      for (const sub of [' admin ', '%61dmin', 'ådmin', 'a\tb', 'admin\r\nx-admin: 1']) {
        const token = await sign(key, f.clock, { sub, roles: ['a,b', ' c', '%2C'] });
        const res = await get(served, '/headers', bearer(token));
        expect(res.status).toBe(200);
        const seen = (await res.json()) as Record<string, string>;
        expect(decodeURIComponent(seen['x-user-id'] as string)).toBe(sub);
        expect(seen['x-roles']?.split(',').map(decodeURIComponent)).toEqual(['a,b', ' c', '%2C']);
        expect(seen).not.toHaveProperty('x-admin');
      }
    });

    test('a signed claim with a lone surrogate is refused with 401, never a 500', async () => {
      const served = await start({ forwardClaims: { 'x-user-id': 'sub' } });
      for (const sub of ['eve\ud800', '\udfffeve']) {
        const token = await sign(key, f.clock, { sub });
        await expect(f.verifier.verify(token)).resolves.toMatchObject({ payload: { sub } });
        for (let i = 0; i < 2; i++) {
          // Uncached, then cached.
          const res = await get(served, '/headers', bearer(token));
          expect(res.status).toBe(401);
          expect(res.headers.get('www-authenticate')).toBe(
            'Bearer realm="api", error="invalid_token", error_description="The access token has a claim that cannot be forwarded"',
          );
          expect(await res.json()).toMatchObject({ status: 401, code: 'ERR_JWT_CACHE_CLAIM' });
        }
      }
      expect(served.handled).toEqual([]);
      expect(served.errors).toEqual([]);
    });

    test('property: any claim string arrives exactly, or the token is refused with 401 when it is not well-formed', async () => {
      const served = await start({ forwardClaims: { 'x-user-id': 'sub', 'x-roles': 'roles' } });
      const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u));
      const tricky = fc.constantFrom(' ', '%', ',', '+', 'å', '\t', '\u00a0', '\ud800', '\udc00', '😀', 'a');
      const claim = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: codeUnit }), fc.string({ unit: tricky }));
      const wellFormed = (text: string): boolean => {
        try {
          encodeURIComponent(text);
          return true;
        } catch {
          return false;
        }
      };
      await fc.assert(
        fc.asyncProperty(claim, fc.array(claim, { minLength: 1, maxLength: 3 }), async (sub, roles) => {
          const res = await get(served, '/headers', bearer(await sign(key, f.clock, { sub, roles })));
          if (![sub, ...roles].every(wellFormed)) {
            expect(res.status).toBe(401);
            expect(await res.json()).toMatchObject({ code: 'ERR_JWT_CACHE_CLAIM' });
            return;
          }
          expect(res.status).toBe(200);
          const seen = (await res.json()) as Record<string, string>;
          expect(decodeURIComponent(seen['x-user-id'] as string)).toBe(sub);
          expect(seen['x-roles']?.split(',').map(decodeURIComponent)).toEqual(roles);
        }),
        { numRuns: 150 },
      );
      expect(served.errors).toEqual([]);
    });

    test('cannot be spoofed: every incoming copy is removed, whatever its case, also when the claim is absent', async () => {
      const served = await start(FORWARD);
      const token = await sign(key, f.clock, { sub: 'user-42' }); // no org, no roles, no name
      const res = await rawGet(`${served.url}/headers`, [
        ['Authorization', `Bearer ${token}`],
        ['X-User-Id', 'admin'],
        ['x-user-id', 'root'],
        ['X-USER-ID', 'superuser'],
        ['x-tenant-id', 'other-tenant'],
        ['X-Tenant-Id', 'evil'],
        ['x-roles', 'admin'],
        ['x-display-name', 'Admin'],
        ['x-jwt-payload', Buffer.from('{"sub":"admin"}').toString('base64url')],
      ]);
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body) as Record<string, string>;
      expect(seen['x-user-id']).toBe('user-42');
      expect(seen['x-jwt-payload']).toBe(token.split('.')[1]);
      for (const name of ['x-tenant-id', 'x-roles', 'x-display-name']) expect(seen).not.toHaveProperty(name);
    });

    test('cannot be spoofed in another spelling (_ for -) or through another view of the request', async () => {
      f = await fixture([key]);
      const served = await serveViews(
        fw.name,
        jwtMounts({ verifier: f.verifier, ...FORWARD, stripHeaders: ['x_legacy_user'] }),
      );
      onTestFinished(() => served.close());
      const token = await sign(key, f.clock, { sub: 'user-42' }); // no org, no roles, no name
      const res = await rawGet(`${served.url}/views`, [
        ['Authorization', `Bearer ${token}`],
        ['X_User_Id', 'admin'],
        ['x_user_id', 'root'],
        ['X-USER_ID', 'superuser'],
        ['x-user-id', 'mallory'],
        ['X_Tenant_Id', 'other-tenant'],
        ['X_ROLES', 'admin'],
        ['x_jwt_payload', b64({ sub: 'admin' })],
        ['X-Legacy-User', 'admin'],
        ['x_legacy_user', 'admin'],
        ['X_Other', 'kept'],
      ]);
      expect(res.status).toBe(200);
      const views = JSON.parse(res.body) as HeaderViews;
      expect(Object.keys(views)).toHaveLength(fw.name === 'hono' ? 5 : 4);
      const spelledAs = (name: string): string => name.toLowerCase().replaceAll('_', '-');
      for (const [view, pairs] of Object.entries(views)) {
        const named = (name: string): string[] =>
          pairs.filter(([sent]) => spelledAs(sent) === name).map(([, value]) => value);
        // The verified values are in the effective views; the raw ones keep what the client sent, less them.
        const raw = view.endsWith('rawHeaders') || view.endsWith('headersDistinct');
        expect(named('x-user-id'), view).toEqual(raw ? [] : ['user-42']);
        expect(named('x-jwt-payload'), view).toEqual(raw ? [] : [token.split('.')[1]]);
        for (const name of ['x-tenant-id', 'x-roles', 'x-display-name', 'x-legacy-user']) {
          expect(named(name), `${view}: ${name}`).toEqual([]);
        }
        expect(named('x-other'), view).toEqual(['kept']);
      }
    });

    test('cannot be spoofed on routes that skip authentication', async () => {
      const served = await start({
        ...FORWARD,
        stripHeaders: ['x-legacy-user'],
        skip: (req) => req.path === '/headers',
      });
      const res = await rawGet(`${served.url}/headers`, [
        ['X-User-Id', 'admin'],
        ['x-user-id', 'root'],
        ['x-jwt-payload', 'e30'],
        ['x-legacy-user', 'admin'],
        ['x-other', 'kept'],
      ]);
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body) as Record<string, string>;
      for (const name of ['x-user-id', 'x-jwt-payload', 'x-legacy-user']) expect(seen).not.toHaveProperty(name);
      expect(seen['x-other']).toBe('kept');
      expect((await get(served, '/ok')).status).toBe(401);
    });

    test('a refused request never reaches the handler with a spoofed identity', async () => {
      const served = await start(FORWARD);
      const res = await rawGet(`${served.url}/headers`, [
        ['Authorization', 'Bearer e30.e30.e30'],
        ['x-user-id', 'admin'],
      ]);
      expect(res.status).toBe(401);
      expect(served.handled).toEqual([]);
    });
  });
});
