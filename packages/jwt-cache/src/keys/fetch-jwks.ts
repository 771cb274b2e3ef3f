import { JwksFetchError } from '../errors.js';
import { maxAgeMs } from './cache-control.js';

/** The `fetch` a key source uses; `globalThis.fetch` by default. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Whether a key set answer that redirects is followed: `'refuse'` (never), or `'same-origin'`
 * (only to the same scheme, host and port as the configured URL, at most 3 in a row).
 *
 * @example
 * ```ts
 * import type { JwksRedirects } from '@portcullis/jwt-cache';
 *
 * // The IdP answers /jwks with 301 to /.well-known/jwks.json on the same host.
 * const redirects: JwksRedirects = 'same-origin';
 * ```
 */
export type JwksRedirects = 'refuse' | 'same-origin';

/** Most redirects followed with `redirects: 'same-origin'`. */
export const MAX_JWKS_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface FetchJwksOptions {
  readonly fetch: FetchLike;
  readonly redirects: JwksRedirects;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Aborted when the source is disposed. */
  readonly signal: AbortSignal;
}

export interface FetchedJwks {
  readonly keys: readonly unknown[];
  /** `Cache-Control: max-age` in ms, when the answer had one (`0` for `no-store` / `no-cache`). */
  readonly maxAgeMs: number | undefined;
}

/**
 * Fetches a key set: one request, bounded in time (the whole exchange, body included) and in size
 * (the declared length is checked first, then the streamed bytes are counted and the body is
 * abandoned past the cap). Only a `200` is a key set. Redirects are not followed (as jose's remote
 * key sets do not follow them): the keys that verify tokens come from the configured URL and from
 * nowhere else, so a redirect, even one the `fetch` followed on its own, fails the fetch, unless
 * `redirects: 'same-origin'` allows a redirect to the same origin. Every failure is a
 * {@link JwksFetchError}.
 */
export async function fetchJwks(url: string, options: FetchJwksOptions): Promise<FetchedJwks> {
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    timeout.abort();
  }, options.timeoutMs);
  // Never the reason the process stays alive.
  (timer as { unref?: () => void }).unref?.();
  const signal = AbortSignal.any([timeout.signal, options.signal]);
  const failure = (error: unknown): JwksFetchError => {
    if (error instanceof JwksFetchError) return error;
    if (options.signal.aborted)
      return new JwksFetchError('aborted', url, `Fetching ${url} was aborted`, { cause: error });
    if (timeout.signal.aborted) {
      return new JwksFetchError('timeout', url, `${url} did not answer within ${options.timeoutMs} ms`, {
        cause: error,
      });
    }
    return new JwksFetchError('network', url, `Fetching ${url} failed: ${describe(error)}`, { cause: error });
  };
  try {
    const response = await fetchWithoutRedirects(url, options, signal);
    if (response.status !== 200) {
      await discard(response);
      throw new JwksFetchError('status', url, `${url} answered ${response.status}`, { status: response.status });
    }
    const text = await readCapped(response, url, options.maxBytes);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new JwksFetchError('malformed', url, `${url} did not answer JSON`, { cause: error });
    }
    const keys = (document as { keys?: unknown } | null)?.keys;
    if (typeof document !== 'object' || document === null || !Array.isArray(keys)) {
      throw new JwksFetchError('malformed', url, `${url} did not answer a JWK Set ({ "keys": [...] })`);
    }
    return { keys, maxAgeMs: maxAgeMs(response.headers.get('cache-control')) };
  } catch (error) {
    throw failure(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The answer of the configured URL itself, or (with `redirects: 'same-origin'`) of a same-origin
 * URL it redirects to. `redirect: 'manual'` hands the 3xx back instead of following it; a `fetch`
 * that follows anyway is caught by `response.redirected` and the response's URL.
 */
async function fetchWithoutRedirects(url: string, options: FetchJwksOptions, signal: AbortSignal): Promise<Response> {
  const origin = new URL(url).origin;
  let current = url;
  for (let hops = 0; ; hops++) {
    const response = await options.fetch(current, {
      signal,
      redirect: 'manual',
      headers: { accept: 'application/json' },
    });
    const sameOrigin = (target: string | undefined): boolean =>
      options.redirects === 'same-origin' && target !== undefined && target !== '' && originOf(target) === origin;
    if (response.redirected && !sameOrigin(response.url)) {
      await discard(response);
      throw refused(url, response.status, response.url);
    }
    // Browsers answer a manual redirect with an opaque response (status 0) that hides the target.
    if (response.type === 'opaqueredirect' || REDIRECT_STATUSES.has(response.status)) {
      await discard(response);
      const location = response.headers.get('location');
      const target = location === null ? undefined : resolve(location, current);
      if (!sameOrigin(target) || hops >= MAX_JWKS_REDIRECTS) throw refused(url, response.status, target);
      current = target as string;
      continue;
    }
    return response;
  }
}

function refused(url: string, status: number, target: string | undefined): JwksFetchError {
  const to = target === undefined ? '' : ` to ${target}`;
  return new JwksFetchError(
    'redirect',
    url,
    `${url} redirected${to} (${status}); key sets are only read from the configured URL`,
    { status },
  );
}

function resolve(location: string, base: string): string | undefined {
  try {
    return new URL(location, base).href;
  } catch {
    return undefined;
  }
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

async function readCapped(response: Response, url: string, maxBytes: number): Promise<string> {
  const tooLarge = (): JwksFetchError =>
    new JwksFetchError('too_large', url, `${url} answered more than ${maxBytes} bytes`);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await discard(response);
    throw tooLarge();
  }
  const body = response.body;
  if (body === null) return '';
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks, total));
  } catch (error) {
    throw new JwksFetchError('malformed', url, `${url} answered bytes that are not UTF-8`, { cause: error });
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
