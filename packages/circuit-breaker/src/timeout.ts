import { Emitter, InvalidOptionError, nonEmptyString, positiveNumber } from '@portcullis/core';
import { PolicyDisposedError, TimeoutError } from './errors.js';
import { invoke, type ExecuteOptions, type Policy, type Protected, rejectWith } from './policy.js';
import { startTimer } from './timer.js';

/** Payload of the `timeout` event. */
export interface TimeoutEvent {
  /** The policy's name. */
  readonly policy: string;
  /** The timeout that expired, in ms. */
  readonly timeoutMs: number;
}

/**
 * The events of a timeout policy.
 *
 * @example
 * ```ts
 * import { timeout } from '@portcullis/circuit-breaker';
 *
 * const policy = timeout({ ms: 2_000, name: 'orders' });
 * policy.events.on('timeout', (e) => metrics.increment(`timeout.${e.policy}`));
 * ```
 */
export interface TimeoutEvents {
  /** A call ran out of time; its signal was aborted. */
  timeout: TimeoutEvent;
}

/**
 * Options of {@link timeout}.
 *
 * @example
 * ```ts
 * import type { TimeoutOptions } from '@portcullis/circuit-breaker';
 *
 * const options: TimeoutOptions = { ms: 2_000, name: 'orders' };
 * ```
 */
export interface TimeoutOptions {
  /**
   * How long a call may run, in ms. Finite, > 0. Required. Waits beyond `setTimeout`'s limit
   * (2^31 − 1 ms, about 24.8 days) are honoured too (a chain of timers), never cut short.
   */
  ms: number;
  /** Names the policy in events (1 to 200 characters). Default `'timeout'`. */
  name?: string | undefined;
}

/**
 * A timeout policy; see {@link timeout}.
 */
export class TimeoutPolicy implements Policy {
  /** Timeouts; see {@link TimeoutEvents}. */
  readonly events: Emitter<TimeoutEvents> = new Emitter<TimeoutEvents>();
  /** The timeout in ms. */
  readonly ms: number;
  readonly #name: string;
  /** Cancellers of the calls in flight, for `dispose`. */
  readonly #active = new Set<() => void>();

  /** @param options - See {@link TimeoutOptions}; validated here. */
  constructor(options: TimeoutOptions) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('options', options, 'an object with ms');
    }
    this.ms = positiveNumber(options.ms, 'ms');
    this.#name = nonEmptyString(options.name ?? 'timeout', 'name', 200);
  }

  /**
   * Runs `fn` with a signal that aborts (reason: a {@link TimeoutError}) after `ms`, and rejects
   * with that error at that moment, without waiting for `fn` to notice. Also aborts when the
   * caller's signal does (rejecting with its reason). The timer is cleared as soon as the call
   * settles.
   */
  execute<T>(fn: Protected<T>, options?: ExecuteOptions): Promise<T> {
    const parent = options?.signal;
    if (parent?.aborted === true) return rejectWith(parent.reason);
    const controller = new AbortController();
    const active = this.#active;
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (): boolean => {
        if (done) return false;
        done = true;
        cancelTimer();
        parent?.removeEventListener('abort', onParentAbort);
        active.delete(cancel);
        return true;
      };
      const abortWith = (reason: unknown): void => {
        if (!finish()) return;
        controller.abort(reason);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- errors and abort reasons pass through unchanged
        reject(reason);
      };
      const onParentAbort = (): void => {
        abortWith((parent as AbortSignal).reason);
      };
      const cancel = (): void => {
        abortWith(new PolicyDisposedError('timeout'));
      };
      const cancelTimer = startTimer(() => {
        if (done) return;
        const error = new TimeoutError(this.ms);
        if (this.events.has('timeout')) this.events.emit('timeout', { policy: this.#name, timeoutMs: this.ms });
        abortWith(error);
      }, this.ms);
      parent?.addEventListener('abort', onParentAbort, { once: true });
      active.add(cancel);
      invoke(fn, { signal: controller.signal }).then(
        (value) => {
          if (finish()) resolve(value);
        },
        (error: unknown) => {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- errors and abort reasons pass through unchanged
          if (finish()) reject(error);
        },
      );
    });
  }

  /** Rejects every call in flight with `PolicyDisposedError`, aborting its signal and clearing its timer. */
  dispose(): void {
    for (const cancel of [...this.#active]) cancel();
  }
}

/**
 * A timeout that really cancels: the protected function gets an `AbortSignal` that aborts after
 * `ms` (pass it to `fetch`, a database driver, …), and the call rejects with a
 * {@link TimeoutError} on time even if the function ignores the signal. One timer per call in
 * flight, cleared when it settles: an idle policy holds none.
 *
 * @param options - See {@link TimeoutOptions}.
 * @throws InvalidOptionError naming `ms` when it is not a finite number > 0.
 *
 * @example
 * ```ts
 * import { timeout } from '@portcullis/circuit-breaker';
 *
 * const twoSeconds = timeout({ ms: 2_000 });
 * const res = await twoSeconds.execute(({ signal }) => fetch('http://orders.internal/42', { signal }));
 * ```
 */
export function timeout(options: TimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(options);
}
