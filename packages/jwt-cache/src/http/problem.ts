/** The media type of RFC 9457 problem details. */
export const PROBLEM_JSON = 'application/problem+json';

/** An RFC 9457 problem details object as the guard sends it. */
export interface Problem {
  readonly type: 'about:blank';
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** The verifier's stable error code, when a token was refused. */
  readonly code?: string;
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  503: 'Service Unavailable',
};

export function problem(status: number, detail: string, code?: string): Problem {
  const body: Problem = { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail };
  return code === undefined ? body : { ...body, code };
}
