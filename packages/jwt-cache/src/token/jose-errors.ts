import { JwtVerificationError, type JwtFailureReason } from '../errors.js';

/** Where the failing check ran, for the error's details. */
export interface FailureSite {
  readonly issuer: string;
  readonly kid: string | undefined;
}

/**
 * Turns whatever jose's `flattenedVerify` (or Web Crypto underneath it) threw into the one error
 * type a verifier throws, keeping the original as `cause`. Unknown errors become `signature`: the
 * token did not verify, whatever the internal reason. (Claims are not jose's to check here: see
 * `checkClaims`.)
 */
export function fromJoseError(error: unknown, site: FailureSite): JwtVerificationError {
  const code = (error as { code?: unknown } | null)?.code;
  const details = { issuer: site.issuer, kid: site.kid, cause: error };
  const text = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new JwtVerificationError('signature', 'The token signature does not verify', details);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new JwtVerificationError('algorithm', 'The token algorithm is not allowed', details);
    case 'ERR_JOSE_NOT_SUPPORTED':
      return new JwtVerificationError(reasonOfUnsupported(text), `Not supported: ${text}`, details);
    case 'ERR_JWS_INVALID':
      return new JwtVerificationError('malformed', `The token is malformed: ${text}`, details);
    default:
      return new JwtVerificationError('signature', 'The token signature could not be verified', details);
  }
}

function reasonOfUnsupported(message: string): JwtFailureReason {
  return message.includes('Extension Header Parameter') ? 'crit' : 'algorithm';
}
