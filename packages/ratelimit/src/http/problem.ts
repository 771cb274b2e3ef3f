import { problemDetails, type ProblemDetails } from '@portcullis/core';
import type { Decision } from '../decision.js';
import { retryAfterSeconds } from './headers.js';

/** The default body of a denial: `about:blank` with the status phrase as title (RFC 9457 §4.2.1). */
export function tooManyRequests(decision: Decision): ProblemDetails & { readonly limitedBy?: string } {
  const limit = decision.limitedBy === undefined ? 'the rate limit' : `the "${decision.limitedBy}" limit`;
  const detail = Number.isFinite(decision.retryAfterMs)
    ? `Request exceeds ${limit}; retry in ${retryAfterSeconds(decision.retryAfterMs)} s.`
    : `Request costs ${decision.cost} units, more than ${limit} can ever admit; retrying will not help.`;
  return decision.limitedBy === undefined
    ? problemDetails(429, detail)
    : problemDetails(429, detail, { limitedBy: decision.limitedBy });
}

/** A 400 problem: the request cannot be rate limited as it is. */
export function badRequest(detail: string): ProblemDetails {
  return problemDetails(400, detail);
}
