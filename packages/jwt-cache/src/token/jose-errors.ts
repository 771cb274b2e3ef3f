import { JwtVerificationError, TokenExpiredError, type JwtFailureReason } from '../errors.js';

/** Where the failing check ran, for the error's details. */
export interface FailureSite {
  readonly issuer: string;
  readonly kid: string | undefined;
}

/**
 * Turns whatever jose (or Web Crypto underneath it) threw into the one error type a verifier
 * throws, keeping the original as `cause`. Unknown errors become `signature`: the token did not
 * verify, whatever the internal reason.
 */
export function fromJoseError(error: unknown, site: FailureSite): JwtVerificationError {
  const code = (error as { code?: unknown } | null)?.code;
  const claim = (error as { claim?: unknown } | null)?.claim;
  const why = (error as { reason?: unknown } | null)?.reason;
  const details = {
    issuer: site.issuer,
    kid: site.kid,
    cause: error,
    claim: typeof claim === 'string' ? claim : undefined,
  };
  const text = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new TokenExpiredError(
        details.claim === 'iat' ? 'The token is older than the maximum token age' : 'The token has expired',
        details,
      );
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (details.claim === 'iss') {
        return new JwtVerificationError('unknown_issuer', 'The token issuer is not trusted', details);
      }
      return details.claim === 'nbf' && why === 'check_failed'
        ? new JwtVerificationError('not_yet_valid', 'The token is not valid yet ("nbf" is in the future)', details)
        : new JwtVerificationError('claim', `Claim check failed: ${text}`, details);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new JwtVerificationError('signature', 'The token signature does not verify', details);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new JwtVerificationError('algorithm', 'The token algorithm is not allowed', details);
    case 'ERR_JOSE_NOT_SUPPORTED':
      return new JwtVerificationError(reasonOfUnsupported(text), `Not supported: ${text}`, details);
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new JwtVerificationError('malformed', `The token is malformed: ${text}`, details);
    default:
      return new JwtVerificationError('signature', 'The token signature could not be verified', details);
  }
}

function reasonOfUnsupported(message: string): JwtFailureReason {
  return message.includes('Extension Header Parameter') ? 'crit' : 'algorithm';
}
