import { InvalidOptionError, isFunctionOption } from '@portcullis/core';
import { timerMs, type CheckOptions, type CheckOutcome } from '../check.js';
import { builtIn, elapsedMs, type BuiltInCheckOptions } from './options.js';

/**
 * The `fetch` the HTTP check calls (the global one by default: undici in Node).
 *
 * @example
 * ```ts
 * import type { HealthFetch } from '@portcullis/health';
 *
 * // Marks probes so the upstream can leave them out of its access log.
 * const marked: HealthFetch = (url, init) => fetch(url, { ...init, headers: { ...init.headers, 'x-probe': 'health' } });
 * ```
 */
export type HealthFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; signal: AbortSignal; redirect: 'manual' },
) => Promise<{
  readonly status: number;
  readonly body?: {
    /** Discards the body unread (a fetch `ReadableStream`'s `cancel()`). */
    cancel(): Promise<void>;
  } | null;
}>;

/**
 * Options of {@link httpCheck}.
 *
 * @example
 * ```ts
 * import type { HttpCheckOptions } from '@portcullis/health';
 *
 * const options: HttpCheckOptions = {
 *   name: 'payments',
 *   url: 'http://payments.internal/health',
 *   warnLatencyMs: 300,
 *   expectStatus: (status) => status === 200,
 * };
 * ```
 */
export interface HttpCheckOptions extends BuiltInCheckOptions {
  /** The check's name (required: a URL is not a name). */
  name: string;
  /**
   * The upstream URL (`http:` or `https:`, no `user:password@`: send credentials in `headers`);
   * shown, without its query, to admitted callers only in `?verbose` outputs.
   */
  url: string | URL;
  /** `GET` or `HEAD`. Default `GET`. */
  method?: 'GET' | 'HEAD' | undefined;
  /** Request headers (a token for the upstream's health endpoint, say). Default none. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Which statuses pass. Default: 200–399 (redirects are not followed). */
  expectStatus?: ((status: number) => boolean) | undefined;
  /** Warn when the answer's headers take longer. Default: never. */
  warnLatencyMs?: number | undefined;
  /** The fetch to use. Default `globalThis.fetch`. */
  fetch?: HealthFetch | undefined;
}

/**
 * Checks an HTTP upstream: one request, the status and the time to the answer's headers (the
 * observed value, in ms); the body is not read. Refused connections, resets and DNS failures fail
 * the check (the error's message and cause kept as its output); a slow upstream is cut at the
 * check's `timeoutMs` (its request aborted). Default component type `component`.
 *
 * @param options - See {@link HttpCheckOptions} and {@link BuiltInCheckOptions}.
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import { createHealth, httpCheck } from '@portcullis/health';
 *
 * const health = createHealth({
 *   checks: [httpCheck({ name: 'payments', url: 'http://payments.internal/health', timeoutMs: 500, intervalMs: 5_000 })],
 * });
 * ```
 */
export function httpCheck(options: HttpCheckOptions): CheckOptions {
  const { url, method = 'GET', headers = {}, expectStatus, warnLatencyMs, fetch: fetchOption, ...rest } = options;
  const target = checkedUrl(url);
  // What outputs name: no query (it may carry a key), for admitted callers' eyes only anyway.
  const shown = shownUrl(target);
  if ((method as string) !== 'GET' && method !== 'HEAD')
    throw new InvalidOptionError('method', method, '"GET" or "HEAD"');
  if (typeof headers !== 'object' || (headers as unknown) === null) {
    throw new InvalidOptionError('headers', headers, 'an object of header values');
  }
  const expected = expectStatus === undefined ? defaultExpected : isFunctionOption(expectStatus, 'expectStatus');
  const warnAt = warnLatencyMs === undefined ? Number.POSITIVE_INFINITY : timerMs(warnLatencyMs, 'warnLatencyMs');
  const doFetch = fetchOption === undefined ? undefined : isFunctionOption(fetchOption, 'fetch');
  const init = { method, headers: { ...headers }, redirect: 'manual' as const };

  return builtIn({ name: options.name, componentType: 'component' }, rest, async function httpUpstreamCheck(signal) {
    const start = performance.now();
    let status: number;
    try {
      const call = doFetch ?? globalThis.fetch;
      const response = await call(target, { ...init, signal });
      status = response.status;
      // The body is not needed: released so the connection goes back to the pool.
      response.body?.cancel().catch(() => undefined);
    } catch (error) {
      return { status: 'fail', output: describeError(error, shown) };
    }
    const latency = elapsedMs(start);
    const outcome: CheckOutcome = { observedValue: latency, observedUnit: 'ms' };
    if (!expected(status)) return { ...outcome, status: 'fail', output: `${shown} answered ${String(status)}` };
    if (latency > warnAt) return { ...outcome, status: 'warn', output: `${shown} took ${String(latency)} ms` };
    return { ...outcome, status: 'pass' };
  });
}

function defaultExpected(status: number): boolean {
  return status >= 200 && status < 400;
}

function checkedUrl(url: unknown): string {
  let parsed: URL;
  try {
    parsed = new URL(url instanceof URL ? url.href : String(url));
  } catch {
    throw new InvalidOptionError('url', url, 'an http: or https: URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidOptionError('url', url, 'an http: or https: URL');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // fetch refuses such URLs on every run; and the secret is not echoed here.
    throw new InvalidOptionError(
      'url',
      '(a URL with credentials)',
      'a URL without user:password@ (send them in `headers`)',
    );
  }
  return parsed.href;
}

function shownUrl(href: string): string {
  const parsed = new URL(href);
  return `${parsed.origin}${parsed.pathname}`;
}

/** fetch's errors say "fetch failed"; the cause says why (ECONNREFUSED, a reset, a timeout). */
function describeError(error: unknown, url: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return `${url}: ${message}${why === '' ? '' : ` (${why})`}`;
}
