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

/**
 * What an exchange's error (Node's socket errors, undici's) says about the endpoint, for its
 * lease's `complete({ failure })`: `refused`, `timeout`, `reset`, else `other`. `aborted` (the
 * client left) is the caller's to decide, since only it knows. For forwarders of your own on an
 * upstream pool; `createForwarder` uses it.
 *
 * @example
 * ```ts
 * import { classifyFailure } from '@portcullis/router';
 *
 * classifyFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })); // 'refused'
 * classifyFailure(Object.assign(new Error('Headers Timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })); // 'timeout'
 * ```
 */
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
