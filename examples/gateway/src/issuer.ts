import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWK } from 'jose';

/** Audience of the demo tokens: this gateway. */
export const DEMO_AUDIENCE = 'portcullis-demo-gateway';

/** What {@link DemoIssuer.rotate} did. */
export interface Rotation {
  /** The key tokens are signed with from now on. */
  readonly kid: string;
  /**
   * Set when the key to switch to has not been fetched yet: the gateway could not verify tokens
   * signed with it, so it signs only once a JWKS answer has carried it.
   */
  readonly pending?: string;
}

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
   * Key rotation as a real provider does it: the next key is published ahead, next to the one
   * signing, and takes over only once a JWKS answer has carried it, so a verifier never sees a
   * token whose key it could not have fetched. If it has been fetched, the rotation is immediate
   * (and a new next key is published); otherwise it is `pending` until the verifier's next fetch
   * (the demo gateway refreshes within 30 s). The retired key stays published for one more
   * rotation; the gateway's rotation grace keeps its tokens verifying after that.
   */
  rotate(): Rotation;
  close(): Promise<void>;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
  /** A JWKS answer has carried it: a verifier may know it. */
  served: boolean;
}

let generation = 0;

function newKey(): SigningKey {
  // Synchronous, so that a rotation is one step: there is never a moment without a next key.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `demo-${String(Date.now())}-${String(++generation)}`;
  return {
    kid,
    privateKey,
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' },
    served: false,
  };
}

/**
 * A stand-in identity provider for the example: ES256 keys whose public halves are served as a
 * JWKS over real HTTP (`Cache-Control: max-age=60`), tokens minted on demand, and rotation on
 * demand — enough to watch the gateway's JWKS cache, rotation grace and identity headers at work.
 * The demo assumes the gateway is the only client of its JWKS (that is how it knows what the
 * gateway has seen). Not an identity provider to deploy: it signs whatever it is asked to.
 *
 * @example
 * ```ts
 * const issuer = await startDemoIssuer();
 * const token = await issuer.mint({ sub: 'alice', tier: 'pro' });
 * issuer.rotate(); // { kid } or, before the gateway has fetched the next key, { kid, pending }
 * await issuer.close();
 * ```
 */
export async function startDemoIssuer(): Promise<DemoIssuer> {
  let retired: SigningKey | undefined;
  let signing = newKey();
  let next = newKey();
  let rotationPending = false;

  function promote(): void {
    retired = signing;
    signing = next;
    next = newKey();
    rotationPending = false;
  }

  const server: Server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const published = [retired, signing, next].filter((key): key is SigningKey => key !== undefined);
    res.setHeader('content-type', 'application/jwk-set+json');
    res.setHeader('cache-control', 'max-age=60');
    res.end(JSON.stringify({ keys: published.map((key) => key.publicJwk) }));
    for (const key of published) key.served = true;
    // A verifier that joins this fetch (or made it) finds the next key in it: it may sign now.
    if (rotationPending) promote();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  return {
    url,
    jwksUrl: `${url}/.well-known/jwks.json`,
    get currentKid() {
      return signing.kid;
    },
    mint: async (claims, ttlSeconds = 900) =>
      new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: signing.kid, typ: 'JWT' })
        .setIssuer(url)
        .setAudience(DEMO_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${String(ttlSeconds)}s`)
        .sign(signing.privateKey),
    rotate: () => {
      if (next.served) {
        promote();
        return { kid: signing.kid };
      }
      rotationPending = true;
      return { kid: signing.kid, pending: next.kid };
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
