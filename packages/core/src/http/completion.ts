import { reportUnhandled } from '../report-error.js';
import type { OnComplete, Outcome } from '../verdict.js';
import { isPromiseLike } from './promise-like.js';

/** The status reported when the client went away before the response finished (nginx's 499). */
export const CLIENT_CLOSED_REQUEST = 499;

function defaultNow(): number {
  return performance.now();
}

/**
 * Tells one request's `onComplete` how the request ended, exactly once, whichever of the
 * framework's signals (response finished, error, client abort) arrives first. The clock starts
 * when the tracker is created, i.e. when the adapter received the verdict.
 *
 * An `onComplete` that throws (or returns a rejected promise) is handed to `reportUnhandled`: the
 * response has already gone, so there is no one left to tell, and it must not crash the server.
 */
export class Completion {
  /** Typed as returning `unknown`: an async callback is assignable to `OnComplete` too. */
  readonly #onComplete: (outcome: Outcome) => unknown;
  readonly #now: () => number;
  readonly #startedAt: number;
  #done = false;
  #error: unknown;
  #hasError = false;

  constructor(onComplete: OnComplete, now: () => number = defaultNow) {
    this.#onComplete = onComplete;
    this.#now = now;
    this.#startedAt = now();
  }

  /** True once the outcome has been delivered. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Remembers an error for the outcome delivered by a later {@link finish} (Fastify's `onError`
   * runs before the error response is sent).
   */
  recordError(error: unknown): void {
    this.#error = error;
    this.#hasError = true;
  }

  /** The response ended with `status`; `error` is what the handler threw, when known. */
  finish(status: number, error?: unknown): void {
    if (this.#done) return;
    const outcome: Outcome = { status, durationMs: this.#elapsed() };
    if (error !== undefined) outcome.error = error;
    else if (this.#hasError) outcome.error = this.#error;
    this.#deliver(outcome);
  }

  /** The client went away before the response finished. */
  abort(): void {
    if (this.#done) return;
    this.#deliver({ status: CLIENT_CLOSED_REQUEST, durationMs: this.#elapsed(), aborted: true });
  }

  #elapsed(): number {
    return Math.max(0, this.#now() - this.#startedAt);
  }

  #deliver(outcome: Outcome): void {
    this.#done = true;
    try {
      // Catch an async callback's rejection too, or it would surface as an unhandled rejection.
      const result = this.#onComplete(outcome);
      if (isPromiseLike(result)) result.then(undefined, reportOnCompleteError);
    } catch (error) {
      reportOnCompleteError(error);
    }
  }
}

function reportOnCompleteError(error: unknown): void {
  reportUnhandled(error, 'onComplete');
}
