import type { Decision } from '../decision.js';
import { retryAfterSeconds } from './headers.js';

/** The media type of RFC 9457 problem details. */
export const PROBLEM_JSON = 'application/problem+json';

/** An RFC 9457 problem details object as this package sends it. */
export interface Problem {
  readonly type: 'about:blank';
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly limitedBy?: string;
}

/** The default body of a denial: `about:blank` with the status phrase as title (RFC 9457 §4.2.1). */
export function tooManyRequests(decision: Decision): Problem {
  const limit = decision.limitedBy === undefined ? 'the rate limit' : `the "${decision.limitedBy}" limit`;
  const detail = Number.isFinite(decision.retryAfterMs)
    ? `Request exceeds ${limit}; retry in ${retryAfterSeconds(decision.retryAfterMs)} s.`
    : `Request costs ${decision.cost} units, more than ${limit} can ever admit; retrying will not help.`;
  const problem: Problem = { type: 'about:blank', title: 'Too Many Requests', status: 429, detail };
  return decision.limitedBy === undefined ? problem : { ...problem, limitedBy: decision.limitedBy };
}

/** A 400 problem: the request cannot be rate limited as it is. */
export function badRequest(detail: string): Problem {
  return { type: 'about:blank', title: 'Bad Request', status: 400, detail };
}
