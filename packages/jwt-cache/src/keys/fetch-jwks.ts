import { JwksFetchError } from '../errors.js';
import { maxAgeMs } from './cache-control.js';

/** The `fetch` a key source uses; `globalThis.fetch` by default. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface FetchJwksOptions {
  readonly fetch: FetchLike;
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
 * abandoned past the cap). Every failure is a {@link JwksFetchError}.
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
    const response = await options.fetch(url, { signal, headers: { accept: 'application/json' } });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
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

async function readCapped(response: Response, url: string, maxBytes: number): Promise<string> {
  const tooLarge = (): JwksFetchError =>
    new JwksFetchError('too_large', url, `${url} answered more than ${maxBytes} bytes`);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
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
