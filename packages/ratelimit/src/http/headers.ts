import type { Decision, DimensionUsage } from '../decision.js';
import type { HeaderPair } from './preset-headers.js';

/**
 * Which rate-limit headers a response carries:
 *
 * - `'draft'`: `RateLimit-Policy` and `RateLimit` of draft-ietf-httpapi-ratelimit-headers (the
 *   structured-field syntax of draft 10 and later) for the most constrained limit only:
 *   `RateLimit-Policy: "perMinute";q=100;w=60` and `RateLimit: "perMinute";r=42;t=17`.
 * - `'draft-all'`: the same fields listing every limit of the policy (pool limits as `pool.<name>`).
 * - `'legacy'`: `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until
 *   the limit is fully available again) for the most constrained limit.
 * - `'both'`: `'draft'` and `'legacy'`.
 *
 * @example
 * ```ts
 * import type { RateLimitHeaderStyle } from '@portcullis/ratelimit';
 *
 * const style: RateLimitHeaderStyle = 'draft-all';
 * ```
 */
export type RateLimitHeaderStyle = 'draft' | 'draft-all' | 'legacy' | 'both';

/** The header styles, for validation. */
export const HEADER_STYLES: readonly RateLimitHeaderStyle[] = ['draft', 'draft-all', 'legacy', 'both'];

/** A dimension's name in headers and in `limitedBy`: pool limits carry a `pool.` prefix. */
function policyName(d: DimensionUsage): string {
  return d.scope === 'pool' ? `pool.${d.name}` : d.name;
}

/** The dimension a decision reports on (its `reportedBy`): the one that denied, else the tightest. */
function mostConstrained(decision: Decision): DimensionUsage {
  const { dimensions, reportedBy } = decision;
  return dimensions.find((d) => policyName(d) === reportedBy) ?? (dimensions[0] as DimensionUsage);
}

/** An sf-string (RFC 9651 §3.3.3). Policy names are letters, digits, `_`, `-` and `.`; escape anyway. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

interface Reported {
  readonly name: string;
  /** The quota (`q`): the limit, whole units. */
  readonly quota: number;
  /** The policy window (`w`): whole seconds, at least 1. */
  readonly windowSeconds: number;
  /** Units left (`r`). */
  readonly remaining: number;
  /** Whole seconds until the limit is fully available again (`X-RateLimit-Reset`). */
  readonly resetSeconds: number;
  /** The effective window (`t`): as `resetSeconds`, or the retry time for the limit that denied. */
  readonly effectiveSeconds: number;
}

/**
 * The largest integer a Structured Field may carry (RFC 9651: at most 15 digits). Figures past it
 * (a limit of 1e300, a window of 1e21 s) are reported as this, never in exponent form.
 */
const SF_INTEGER_MAX = 999_999_999_999_999;

/** `Retry-After` delta-seconds are capped at 2^31 (RFC 9111 §1.2.2's largest value to expect). */
const RETRY_AFTER_MAX_SECONDS = 2_147_483_648;

/** A whole number in `[min, max]` (NaN reads as `min`), so `String()` never writes an exponent. */
function clampInteger(value: number, min: number, max: number): number {
  return value >= max ? max : value >= min ? Math.floor(value) : min;
}

function report(decision: Decision, d: DimensionUsage): Reported {
  const resetSeconds = clampInteger(Math.ceil((d.resetAt - decision.decidedAt) / 1000), 0, SF_INTEGER_MAX);
  // The draft: Retry-After "SHOULD NOT reference a point in time earlier than the end of the
  // effective window". A bucket is fully refilled (resetAt) long after the request could be retried,
  // so on a denial the limiting dimension reports the retry time as its effective window.
  const retrying = !decision.allowed && policyName(d) === decision.limitedBy && Number.isFinite(decision.retryAfterMs);
  return {
    name: policyName(d),
    quota: clampInteger(d.limit, 0, SF_INTEGER_MAX),
    windowSeconds: clampInteger(Math.ceil(d.windowMs / 1000), 1, SF_INTEGER_MAX),
    remaining: clampInteger(d.remaining, 0, SF_INTEGER_MAX),
    resetSeconds,
    effectiveSeconds: retrying ? retryAfterSeconds(decision.retryAfterMs) : resetSeconds,
  };
}

/**
 * Whole seconds for `Retry-After` (rounded up: never invites a retry that is still too early), at
 * least 0 and at most 2^31, so the header is always plain delta-seconds.
 */
export function retryAfterSeconds(retryAfterMs: number): number {
  return clampInteger(Math.ceil(retryAfterMs / 1000), 0, RETRY_AFTER_MAX_SECONDS);
}

/**
 * The rate-limit headers of `style` for `decision`, in the order `Headers` iterates them (sorted by
 * name: `ratelimit`, `ratelimit-policy`, `x-ratelimit-limit`, `x-ratelimit-remaining`,
 * `x-ratelimit-reset`). After a fail-open decision usage is unknown, so only the policy
 * (`RateLimit-Policy`, `X-RateLimit-Limit`) is reported.
 */
export function rateLimitHeaders(decision: Decision, style: RateLimitHeaderStyle): HeaderPair[] {
  const known = decision.source !== 'fail-open';
  const pairs: HeaderPair[] = [];
  if (style !== 'legacy') {
    const reported =
      style === 'draft-all'
        ? decision.dimensions.map((d) => report(decision, d))
        : [report(decision, mostConstrained(decision))];
    if (known) {
      pairs.push([
        'ratelimit',
        reported.map((p) => `${sfString(p.name)};r=${p.remaining};t=${p.effectiveSeconds}`).join(', '),
      ]);
    }
    pairs.push([
      'ratelimit-policy',
      reported.map((p) => `${sfString(p.name)};q=${p.quota};w=${p.windowSeconds}`).join(', '),
    ]);
  }
  if (style === 'legacy' || style === 'both') {
    const p = report(decision, mostConstrained(decision));
    pairs.push(['x-ratelimit-limit', String(p.quota)]);
    if (known) {
      pairs.push(['x-ratelimit-remaining', String(p.remaining)], ['x-ratelimit-reset', String(p.resetSeconds)]);
    }
  }
  return pairs;
}
