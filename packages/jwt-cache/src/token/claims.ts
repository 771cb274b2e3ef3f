import { JwtVerificationError, TokenExpiredError, type JwtErrorDetails } from '../errors.js';
import type { FailureSite } from './jose-errors.js';

/**
 * What the claims of one issuer's tokens must satisfy, worked out once per issuer. The checks are
 * those of jose's `jwtVerify` (RFC 7519 §4.1), in jose's order and with its messages, so a token
 * is refused for the same reason and claim as when jose ran them.
 */
export interface ClaimRules {
  /** `iss` must be exactly this. */
  readonly issuer: string;
  /** `aud` (a string or an array of strings) must contain one of these, when set. */
  readonly audience: readonly string[] | undefined;
  /** The required `typ` header as a media type (lower case, `application/` added when it has no `/`). */
  readonly typ: string | undefined;
  /** Claims that must be present, in the order jose looks for them (the first missing one is reported). */
  readonly present: readonly string[];
  /** Oldest accepted `iat`, as an age in seconds; `undefined` for no limit. */
  readonly maxTokenAgeS: number | undefined;
  /** Clock skew allowed for `exp`, `nbf` and `iat`, in seconds. */
  readonly toleranceS: number;
}

/** The options of one issuer, validated, as {@link ClaimRules}. */
export function claimRules(options: {
  readonly issuer: string;
  readonly audience: string | readonly string[] | undefined;
  readonly typ: string | undefined;
  readonly requiredClaims: readonly string[];
  readonly maxTokenAgeMs: number | undefined;
  readonly toleranceMs: number;
}): ClaimRules {
  const { issuer, audience, typ, requiredClaims, maxTokenAgeMs, toleranceMs } = options;
  // jose collects the required claims, then `iat` (with a max age), `aud` (with an audience) and
  // `iss`, and checks them last first.
  const present = [...requiredClaims];
  if (maxTokenAgeMs !== undefined) present.push('iat');
  if (audience !== undefined) present.push('aud');
  present.push('iss');
  return {
    issuer,
    audience: typeof audience === 'string' ? [audience] : audience,
    typ: typ === undefined ? undefined : mediaType(typ),
    present: [...new Set(present.reverse())],
    maxTokenAgeS: maxTokenAgeMs === undefined ? undefined : maxTokenAgeMs / 1000,
    toleranceS: toleranceMs / 1000,
  };
}

/**
 * Checks the claims of a token whose signature has verified, at `nowMs`: `typ`, presence, `iss`,
 * `aud`, then `nbf`, `exp` and the max age in whole seconds with the tolerance on each side.
 * Throws a `JwtVerificationError` (a `TokenExpiredError` for expiry and age) naming the claim.
 *
 * `header` and `payload` must be decoded from the very segments the signature covers.
 */
export function checkClaims(
  header: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>>,
  rules: ClaimRules,
  nowMs: number,
  site: FailureSite,
): void {
  if (rules.typ !== undefined) {
    const typ = header['typ'];
    if (typeof typ !== 'string' || mediaType(typ) !== rules.typ)
      throw failed(site, 'typ', 'unexpected "typ" JWT header value');
  }
  for (const claim of rules.present) {
    if (!Object.hasOwn(payload, claim)) throw failed(site, claim, `missing required "${claim}" claim`);
  }
  if (payload['iss'] !== rules.issuer) {
    throw new JwtVerificationError('unknown_issuer', 'The token issuer is not trusted', details(site, 'iss'));
  }
  if (rules.audience !== undefined && !hasAudience(payload['aud'], rules.audience)) {
    throw failed(site, 'aud', 'unexpected "aud" claim value');
  }
  // A clock answering NaN would make every comparison below false, so every token valid.
  if (!Number.isFinite(nowMs)) throw new JwtVerificationError('claim', 'The clock gave no usable time', site);
  const now = Math.floor(nowMs / 1000);
  const tolerance = rules.toleranceS;
  const iat = numericDate(payload, 'iat', site);
  const nbf = numericDate(payload, 'nbf', site);
  if (nbf !== undefined && nbf > now + tolerance) {
    throw new JwtVerificationError(
      'not_yet_valid',
      'The token is not valid yet ("nbf" is in the future)',
      details(site, 'nbf'),
    );
  }
  const exp = numericDate(payload, 'exp', site);
  if (exp !== undefined && exp <= now - tolerance) {
    throw new TokenExpiredError('The token has expired', details(site, 'exp'));
  }
  if (rules.maxTokenAgeS !== undefined && iat !== undefined) {
    const age = now - iat;
    if (age - tolerance > rules.maxTokenAgeS) {
      throw new TokenExpiredError('The token is older than the maximum token age', details(site, 'iat'));
    }
    if (age < -tolerance) throw failed(site, 'iat', '"iat" claim timestamp check failed (it should be in the past)');
  }
}

/** A time claim: absent, or a number (any other type is refused). */
function numericDate(payload: Readonly<Record<string, unknown>>, claim: string, site: FailureSite): number | undefined {
  const value = payload[claim];
  if (value === undefined || typeof value === 'number') return value;
  throw failed(site, claim, `"${claim}" claim must be a number`);
}

function hasAudience(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  return Array.isArray(aud) && accepted.some((one) => aud.includes(one));
}

/** `typ` compared as a media type: `at+jwt` is `application/at+jwt`, case-insensitively. */
function mediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return typ.includes('/') ? lower : `application/${lower}`;
}

/** A failed check of `claim`, worded as jose words it. */
function failed(site: FailureSite, claim: string, message: string): JwtVerificationError {
  return new JwtVerificationError('claim', `Claim check failed: ${message}`, details(site, claim));
}

function details(site: FailureSite, claim: string): JwtErrorDetails {
  return { issuer: site.issuer, kid: site.kid, claim };
}
