import type { UpstreamFailure } from './errors.js';

// Error codes from Node's sockets and undici, by what they say about the endpoint.
const REFUSED: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);
const TIMEOUT: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const RESET: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_INFO']);

/** What an exchange's error says about the endpoint (`aborted` is decided by the caller, who knows). */
export function classifyFailure(error: unknown): Exclude<UpstreamFailure, 'aborted'> {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code !== 'string') return 'other';
  if (REFUSED.has(code)) return 'refused';
  if (TIMEOUT.has(code)) return 'timeout';
  if (RESET.has(code)) return 'reset';
  return 'other';
}

/** The status a failure is answered with when no response has started: 504 for timeouts, else 502. */
export function failureStatus(failure: UpstreamFailure): number {
  return failure === 'timeout' ? 504 : failure === 'aborted' ? 499 : 502;
}
