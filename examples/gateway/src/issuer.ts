import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** Audience of the demo tokens: this gateway. */
export const DEMO_AUDIENCE = 'portcullis-demo-gateway';

/** A running demo identity provider. */
export interface DemoIssuer {
  /** The issuer (`iss`) and base URL; its JWKS is at `${url}/.well-known/jwks.json`. */
  readonly url: string;
  /** The JWKS URL the gateway's verifier fetches. */
  readonly jwksUrl: string;
  /** The `kid` tokens are signed with now. */
  readonly currentKid: string;
  /** Signs a token for `sub` with a `tier` (and `team`) claim, valid for `ttlSeconds`. */
  mint(claims: { sub: string; tier: string; team?: string; scope?: string }, ttlSeconds?: number): Promise<string>;
  /**
   * Key rotation: a new key signs from now on and the old one leaves the published set at once.
   * (A real provider publishes the new key first and retires the old one later; the gateway's
   * rotation grace keeps tokens signed with the old key verifying either way.)
   */
  rotate(): Promise<string>;
  close(): Promise<void>;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

let generation = 0;

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = `demo-${String(Date.now())}-${String(++generation)}`;
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/**
 * A stand-in identity provider for the example: an ES256 key pair whose public half is served as a
 * JWKS over real HTTP (`Cache-Control: max-age=60`), tokens minted on demand, and rotation on
 * demand — enough to watch the gateway's JWKS cache, rotation grace and identity headers at work.
 * Not an identity provider to deploy: it signs whatever it is asked to.
 */
export async function startDemoIssuer(): Promise<DemoIssuer> {
  let current = await newKey();
  const server: Server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/jwk-set+json');
    res.setHeader('cache-control', 'max-age=60');
    res.end(JSON.stringify({ keys: [current.publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  return {
    url,
    jwksUrl: `${url}/.well-known/jwks.json`,
    get currentKid() {
      return current.kid;
    },
    mint: async (claims, ttlSeconds = 900) =>
      new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: current.kid, typ: 'JWT' })
        .setIssuer(url)
        .setAudience(DEMO_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${String(ttlSeconds)}s`)
        .sign(current.privateKey),
    rotate: async () => {
      current = await newKey();
      return current.kid;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
