/**
 * What a protected function receives: the signal it must honour. It aborts when the caller's
 * signal aborts, when a timeout expires, or when a policy is disposed; pass it on (`fetch(url,
 * { signal })`) so the work really stops.
 */
export interface ExecuteContext {
  /** Aborted when the call should stop; its `reason` says why. */
  readonly signal: AbortSignal;
}

/** Options of every `execute` call. */
export interface ExecuteOptions {
  /**
   * The caller's signal: when it aborts, the call rejects with its reason as soon as the policy can
   * tell (at once while waiting in a queue or a backoff), and the protected function's signal
   * aborts too. An outcome caused by the caller's own abort is never counted against the
   * upstream. Default: none.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A protected function: sync or async, given the call's {@link ExecuteContext}. */
export type Protected<T> = (context: ExecuteContext) => T | PromiseLike<T>;

/**
 * A resilience policy: breaker, retry, timeout, bulkhead, fallback, or a `pipeline` of them.
 * `Extra` is what the policy may resolve with besides the protected function's own result (a
 * fallback's value); `never` for every policy but fallbacks.
 *
 * @example
 * ```ts
 * import { timeout, type Policy } from '@portcullis/circuit-breaker';
 *
 * const policy: Policy = timeout({ ms: 2_000 });
 * const body = await policy.execute(({ signal }) => fetch('http://orders.internal/', { signal }).then((r) => r.text()));
 * ```
 */
export interface Policy<Extra = never> {
  /**
   * Runs `fn` under the policy. Resolves with its result (or, for a fallback, the fallback's);
   * rejects with its error or the policy's own (`BrokenCircuitError`, `TimeoutError`, …), or with
   * the caller's abort reason.
   */
  execute<T>(fn: Protected<T>, options?: ExecuteOptions): Promise<T | Extra>;
  /**
   * Cancels everything the policy is waiting on (queued calls, backoff sleeps, timeout timers):
   * those calls reject with `PolicyDisposedError` and no timer of the policy is left. Policies
   * that hold no timers have nothing to do. The policy stays usable.
   */
  dispose(): void;
}

/** The signal given to protected functions when the caller passed none: it never aborts. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/** The context for calls without a signal: shared, so such calls allocate none. */
export const NO_SIGNAL_CONTEXT: ExecuteContext = Object.freeze({ signal: NEVER_ABORTED });

/** The context for a call: the shared one when the caller passed no signal. */
export function contextFor(options: ExecuteOptions | undefined): ExecuteContext {
  const signal = options?.signal;
  return signal === undefined ? NO_SIGNAL_CONTEXT : { signal };
}

/** True when `value` has a `then` method. */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * A promise rejected with `reason` exactly as it is: errors and abort reasons pass through the
 * policies unchanged (identity included), whatever their type.
 */
export function rejectWith(reason: unknown): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed through unchanged, by design
  return Promise.reject(reason);
}

/**
 * Calls `fn` and always returns a native promise: a sync throw becomes a rejection, a thenable is
 * adopted.
 */
export function invoke<T>(fn: Protected<T>, context: ExecuteContext): Promise<T> {
  let result: T | PromiseLike<T>;
  try {
    result = fn(context);
  } catch (error) {
    return rejectWith(error);
  }
  return result instanceof Promise ? (result as Promise<T>) : Promise.resolve(result);
}
