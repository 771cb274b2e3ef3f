import type { JWTHeaderParameters, JWTPayload } from 'jose';

/**
 * A token that passed every check. Deeply frozen: a cached result is shared by every request that
 * presents the same token.
 *
 * @example
 * ```ts
 * const jwt = await verifier.verify(token);
 * jwt.payload.sub; // 'user-42'
 * jwt.issuer; // 'https://idp.example.com/'
 * ```
 */
export interface VerifiedJwt {
  /** The claims. */
  readonly payload: Readonly<JWTPayload>;
  /** The protected header. */
  readonly header: Readonly<JWTHeaderParameters>;
  /** The issuer whose keys verified it (its `iss`). */
  readonly issuer: string;
  /** The algorithm it was signed with. */
  readonly alg: string;
  /** The `kid` of the key that verified it, if the token named one. */
  readonly kid: string | undefined;
  /** `exp` in epoch ms, if the token has one. */
  readonly expiresAt: number | undefined;
}

declare module '@portcullis/core' {
  // Types `req.portcullis.jwt` (and `req.context.jwt`) for every app that imports this package. The
  // `identity` entry is left to the app: its shape is whatever its `identity` option maps to.
  interface PortcullisContext {
    /** The verified token, set by `@portcullis/jwt-cache`'s guard when it let the request through. */
    readonly jwt: VerifiedJwt;
  }
}

/** Freezes a JSON value and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) freezeObject(value);
  return value;
}

// Runs on every verification: own keys, and no call (nor array of values) per primitive member.
function freezeObject(object: object): void {
  Object.freeze(object);
  const record = object as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const member = record[key];
    if (typeof member === 'object' && member !== null && !Object.isFrozen(member)) freezeObject(member);
  }
}
