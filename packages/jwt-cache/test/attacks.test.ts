import { generateKeyPair, startHttpServer } from '@portcullis/testkit';
import { CompactSign, FlattenedSign, SignJWT } from 'jose';
import { describe, expect, onTestFinished, test } from 'vitest';
import { createJwtVerifier, isJwtVerificationError, type JwtVerifier } from '../src/index.js';
import { AUDIENCE, b64, fixture, ISSUER, rejectionOf, sign, T0, unsignedToken, type Fixture } from './support.js';

const rsa = generateKeyPair('RS256', 'rsa-1');
const ec = generateKeyPair('ES256', 'ec-1');
const attacker = generateKeyPair('ES256', 'attacker');
const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: T0 / 1000 + 3600 };
const rsaPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string;

/** Refused with a typed error of this reason, or the test fails. */
async function refused(verifier: JwtVerifier, token: string, reason: string): Promise<void> {
  const error = await rejectionOf(verifier.verify(token));
  expect(isJwtVerificationError(error), String(error)).toBe(true);
  expect(error).toMatchObject({ reason, code: `ERR_JWT_CACHE_${reason.toUpperCase()}` });
}

async function attackerServer(): Promise<{ url: string; requests: () => number }> {
  const server = await startHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attacker.publicJwk] }));
  });
  onTestFinished(() => server.close());
  return { url: `${server.url}/jwks.json`, requests: () => server.requests };
}

describe('attack classes are rejected with typed errors', () => {
  let f: Fixture;
  const setup = async (): Promise<Fixture> => (f = await fixture([rsa, ec]));

  test('alg "none", in any case, with or without a signature', async () => {
    const { verifier } = await setup();
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await refused(verifier, `${b64({ alg })}.${b64(claims)}.`, 'algorithm');
      await refused(verifier, unsignedToken({ alg, kid: 'rsa-1' }, claims), 'algorithm');
    }
  });

  test('RS256/HS256 confusion: an HMAC "signed" with the issuer public key is refused', async () => {
    const { verifier } = await setup();
    for (const secret of [rsaPem, JSON.stringify(rsa.publicJwk), String(rsa.publicJwk.n)]) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
        .sign(new TextEncoder().encode(secret));
      await refused(verifier, token, 'algorithm');
    }
  });

  test('RS256/HS256 confusion when HMAC is allowed for the issuer: the RSA key never serves as a secret', async () => {
    using verifier = createJwtVerifier({
      clock: { now: () => T0 },
      issuers: {
        [ISSUER]: {
          keys: [
            rsa.publicJwk,
            { kty: 'oct', kid: 'hmac-1', k: Buffer.from('a real shared secret, 32 bytes!').toString('base64url') },
          ],
          algorithms: ['RS256', 'HS256'],
        },
      },
    });
    const secret = new TextEncoder().encode(rsaPem);
    const withRsaKid = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(secret);
    await refused(verifier, withRsaKid, 'algorithm');
    const withoutKid = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    await refused(verifier, withoutKid, 'signature');
  });

  test('an embedded jwk is never trusted', async () => {
    const { verifier, jwks } = await setup();
    for (const kid of ['attacker', 'ec-1']) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid, jwk: attacker.publicJwk })
        .sign(attacker.privateKey);
      await refused(verifier, token, 'forbidden_header');
    }
    // Told to ignore such headers, the verifier still only uses the configured keys.
    using lenient = createJwtVerifier({
      clock: f.clock,
      keyHeaders: 'ignore',
      jwks: { backgroundRefresh: false },
      issuers: { [ISSUER]: { jwks: jwks.url } },
    });
    const impersonating = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-1', jwk: attacker.publicJwk })
      .sign(attacker.privateKey);
    await refused(lenient, impersonating, 'signature');
  });

  test('jku and x5u are never fetched', async () => {
    const { verifier, jwks } = await setup();
    const evil = await attackerServer();
    for (const header of [{ jku: evil.url }, { x5u: evil.url }, { x5c: ['MIIB'] }]) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'attacker', ...header })
        .sign(attacker.privateKey);
      await refused(verifier, token, 'forbidden_header');
    }
    using lenient = createJwtVerifier({
      clock: f.clock,
      keyHeaders: 'ignore',
      jwks: { backgroundRefresh: false },
      issuers: { [ISSUER]: { jwks: jwks.url } },
    });
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'attacker', jku: evil.url })
      .sign(attacker.privateKey);
    await refused(lenient, token, 'key_not_found');
    expect(evil.requests()).toBe(0);
  });

  test('an unknown critical extension is refused; a configured one is accepted', async () => {
    const { verifier, jwks, clock } = await setup();
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-1', crit: ['urn:example:ext'], 'urn:example:ext': true })
      .sign(ec.privateKey, { crit: { 'urn:example:ext': true } });
    await refused(verifier, token, 'crit');
    await refused(verifier, unsignedToken({ alg: 'ES256', kid: 'ec-1', crit: ['exp'] }, claims), 'malformed');
    using understanding = createJwtVerifier({
      clock,
      jwks: { backgroundRefresh: false },
      issuers: { [ISSUER]: { jwks: jwks.url, crit: ['urn:example:ext'] } },
    });
    await expect(understanding.verify(token)).resolves.toMatchObject({ header: { crit: ['urn:example:ext'] } });
  });

  test('an unencoded payload (b64: false) is refused', async () => {
    const { verifier } = await setup();
    const jws = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-1', b64: false, crit: ['b64'] })
      .sign(ec.privateKey);
    const header = jws.protected as string;
    // As RFC 7797 spells it (the raw payload; here its dots break the compact form at once).
    await refused(verifier, `${header}.${JSON.stringify(claims)}.${jws.signature}`, 'malformed');
    // Even with the payload spelled in base64url, so the rest of the token is well formed.
    await refused(verifier, `${header}.${b64(claims)}.${jws.signature}`, 'forbidden_header');
  });

  test('a signed payload that is not UTF-8 is refused, not repaired; a U+FFFD sent as such is kept', async () => {
    const { verifier } = await setup();
    const signed = (name: Buffer): Promise<string> =>
      new CompactSign(
        Buffer.concat([Buffer.from(`${JSON.stringify(claims).slice(0, -1)},"name":"`), name, Buffer.from('"}')]),
      )
        .setProtectedHeader({ alg: 'ES256', kid: 'ec-1' })
        .sign(ec.privateKey);
    await refused(verifier, await signed(Buffer.from([0xff])), 'malformed');
    await refused(verifier, await signed(Buffer.from([0xed, 0xa0, 0x80])), 'malformed');
    const jwt = await verifier.verify(await signed(Buffer.from('\uFFFD')));
    expect(jwt.payload['name']).toBe('\uFFFD');
  });

  test('an oversized token is refused before any parsing', async () => {
    const { verifier, clock } = await setup();
    const valid = await sign(ec, clock);
    const padded = await sign(ec, clock, { pad: 'x'.repeat(8_192) });
    await refused(verifier, padded, 'too_large');
    await refused(verifier, 'not even a token '.repeat(1_000_000), 'too_large');
    await expect(verifier.verify(valid)).resolves.toBeDefined();
  });

  test('an ECDSA signature with r = s = 0 ("psychic signature") is refused', async () => {
    const { verifier } = await setup();
    const zero = Buffer.alloc(64).toString('base64url');
    await refused(verifier, unsignedToken({ alg: 'ES256', kid: 'ec-1' }, claims, zero), 'signature');
    // And with r = s = the curve order n, the other classic degenerate value.
    const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
    const rn = Buffer.concat([n, n]).toString('base64url');
    await refused(verifier, unsignedToken({ alg: 'ES256', kid: 'ec-1' }, claims, rn), 'signature');
  });

  test('a token from an issuer that is not configured is refused before any key lookup', async () => {
    const { verifier, jwks, clock } = await setup();
    await refused(verifier, await sign(ec, clock, { iss: 'https://evil.test/' }), 'unknown_issuer');
    await refused(verifier, unsignedToken({ alg: 'ES256', kid: 'x' }, { sub: 'no-iss' }), 'unknown_issuer');
    expect(jwks.fetchCount).toBe(0);
  });

  test('JWE and other shapes are refused as malformed', async () => {
    const { verifier } = await setup();
    for (const token of [
      '',
      'a.b',
      'a.b.c.d.e',
      '..',
      `${b64({ alg: 'ES256' })}.${b64([1])}.c2ln`,
      `${b64('null')}.${b64(claims)}.c2ln`,
    ]) {
      await refused(verifier, token, 'malformed');
    }
  });
});
