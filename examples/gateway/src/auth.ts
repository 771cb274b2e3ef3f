import { PROBLEM_JSON, problemDetails, respond, type ContinueVerdict, type Guard } from '@portcullis/core';
import { jwtGuard, type JwtVerifier } from '@portcullis/jwt-cache';
import { API_KEYS, type Customer } from './plans.js';

/** What authentication adds to the request context, whichever credential was used. */
export interface CustomerContext {
  readonly identity: Customer;
}

/** Headers the upstream reads the caller's identity from; never taken from the client. */
export const IDENTITY_HEADERS = { user: 'x-portcullis-user', tier: 'x-portcullis-tier' } as const;

/** What the guard answers per key, built once: the key table is fixed, and a verdict is only read. */
const API_KEY_VERDICTS: ReadonlyMap<string, ContinueVerdict<CustomerContext>> = new Map(
  Object.entries(API_KEYS).map(([apiKey, customer]) => [
    apiKey,
    Object.freeze({
      action: 'continue' as const,
      context: Object.freeze({ identity: customer }),
      upstreamHeaders: new Headers({ [IDENTITY_HEADERS.user]: customer.id, [IDENTITY_HEADERS.tier]: customer.tier }),
    }),
  ]),
);

/**
 * Identifies the customer by `x-api-key` and tells the upstream who it is, replacing any identity
 * header the client sent.
 */
export const apiKeyAuth: Guard<CustomerContext> = function apiKeyAuth(req) {
  const apiKey = req.header('x-api-key');
  const verdict = apiKey === undefined ? undefined : API_KEY_VERDICTS.get(apiKey);
  if (verdict === undefined) {
    return respond(
      401,
      problemDetails(
        401,
        'Send x-api-key: demo-free, demo-pro or demo-enterprise, or a bearer token from POST /demo/token',
      ),
      { 'content-type': PROBLEM_JSON, 'www-authenticate': 'Bearer realm="portcullis-demo", ApiKey' },
    );
  }
  return verdict;
};

/**
 * Bearer tokens verified by `verifier` (JWKS cached, rotation grace, verified-token cache): the
 * `sub` and `tier` claims become the identity and the upstream's identity headers; every copy of
 * those headers the client sent is stripped. Requests without an `Authorization` header fall back
 * to API keys.
 */
export function authenticate(verifier: JwtVerifier): Guard<CustomerContext> {
  const bearer = jwtGuard<Customer>({
    verifier,
    realm: 'portcullis-demo',
    identity: (jwt) => ({
      id: typeof jwt.payload.sub === 'string' ? jwt.payload.sub : 'anonymous',
      tier: typeof jwt.payload['tier'] === 'string' ? jwt.payload['tier'] : 'free',
      team: typeof jwt.payload['team'] === 'string' ? jwt.payload['team'] : 'none',
    }),
    forwardClaims: { [IDENTITY_HEADERS.user]: 'sub', [IDENTITY_HEADERS.tier]: 'tier' },
  });
  return function authenticateCustomer(req) {
    return req.header('authorization') === undefined ? apiKeyAuth(req) : bearer(req);
  };
}
