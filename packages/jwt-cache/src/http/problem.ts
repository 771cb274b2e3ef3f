import { problemDetails, type ProblemDetails } from '@portcullis/core';

/** An RFC 9457 problem details object as the guard sends it. */
export interface Problem extends ProblemDetails {
  /** The verifier's stable error code, when a token was refused. */
  readonly code?: string;
}

export function problem(status: number, detail: string, code?: string): Problem {
  return code === undefined ? problemDetails(status, detail) : problemDetails(status, detail, { code });
}
