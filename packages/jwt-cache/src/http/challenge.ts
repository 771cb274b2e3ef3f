import type { JwtFailureReason } from '../errors.js';

/** RFC 6750 §3 error codes. */
export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/**
 * A `WWW-Authenticate: Bearer` challenge. Quoted values are limited to the characters RFC 6750
 * allows in `error_description` (printable ASCII without `"` and `\`), so nothing a client sent
 * can break out of the header.
 */
export function bearerChallenge(
  realm: string | undefined,
  error?: BearerError,
  description?: string,
  scope?: readonly string[],
): string {
  const params: string[] = [];
  if (realm !== undefined) params.push(`realm="${quoted(realm)}"`);
  if (error !== undefined) params.push(`error="${error}"`);
  if (description !== undefined) params.push(`error_description="${quoted(description)}"`);
  if (scope !== undefined && scope.length > 0) params.push(`scope="${quoted(scope.join(' '))}"`);
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

function quoted(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "'");
}

/**
 * What a client is told about a refused token. Fixed texts per reason: nothing of the token (an
 * attacker's input) is echoed, and expiry reads the same everywhere so clients can act on it.
 */
export function describeFailure(reason: JwtFailureReason, claim: string | undefined): string {
  switch (reason) {
    case 'expired':
      return 'The access token expired';
    case 'not_yet_valid':
      return 'The access token is not valid yet';
    case 'too_large':
      return 'The access token is too large';
    case 'malformed':
      return 'The access token is malformed';
    case 'forbidden_header':
    case 'crit':
    case 'algorithm':
      return 'The access token uses a header or algorithm that is not accepted';
    case 'unknown_issuer':
      return 'The access token issuer is not trusted';
    // Each as its code says (the problem body carries the code; the text must not contradict it).
    case 'key_not_found':
      return 'The access token is signed with a key the issuer does not publish';
    case 'key_revoked':
      return 'The access token is signed with a revoked key';
    case 'signature':
      return 'The access token signature is not valid';
    case 'claim':
      return claim === undefined
        ? 'The access token failed a claim check'
        : `The access token failed the ${claim} check`;
    case 'jwks_unavailable':
      return 'The access token cannot be verified now';
  }
}
