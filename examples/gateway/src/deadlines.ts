import { Cancellation } from './cancel.js';

/** An attempt's time ran out; the reason its signal aborts with. */
export class AttemptTimeoutError extends Error {
  override readonly name = 'AttemptTimeoutError';
  readonly code = 'ERR_PORTCULLIS_ATTEMPT_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`the upstream did not answer within ${String(timeoutMs)} ms`);
  }
}

/**
 * An attempt's signal, and its place in {@link Deadlines}: it aborts with an
 * {@link AttemptTimeoutError} at its deadline unless it is settled first.
 */
export class DeadlineSignal extends Cancellation {
  /** `performance.now()` at which it aborts. */
  deadline = 0;
  prev: DeadlineSignal | undefined = undefined;
  next: DeadlineSignal | undefined = undefined;
  linked = false;
}

/**
 * The deadlines of the attempts in flight, all `ms` long, with one timer between them instead of
 * a timer (and an `AbortController`) per attempt. Every deadline is `ms` after its start, so the
 * list is in deadline order by construction: adding and settling are O(1) (a doubly linked list),
 * and the one timer is set for the oldest deadline. When it fires, the attempts past their
 * deadline are aborted and it is set again for the next; attempts that settled in time left the
 * list already, so under load it fires about once per `ms`, not once per attempt. Memory: one
 * entry per attempt in flight.
 */
export class Deadlines {
  readonly #ms: number;
  #head: DeadlineSignal | undefined = undefined;
  #tail: DeadlineSignal | undefined = undefined;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;

  /** @param ms - Each attempt's time, in ms (> 0). */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /** A signal that aborts in `ms` unless {@link Deadlines.settle} is called for it first. */
  start(): DeadlineSignal {
    const signal = new DeadlineSignal();
    signal.deadline = performance.now() + this.#ms;
    signal.linked = true;
    const tail = this.#tail;
    signal.prev = tail;
    if (tail === undefined) this.#head = signal;
    else tail.next = signal;
    this.#tail = signal;
    if (this.#timer === undefined) this.#arm(this.#ms);
    return signal;
  }

  /** The attempt is over (answered, failed or aborted): its deadline no longer applies. */
  settle(signal: DeadlineSignal): void {
    if (!signal.linked) return;
    signal.linked = false;
    const { prev, next } = signal;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    signal.prev = undefined;
    signal.next = undefined;
  }

  /** Stops the timer (the attempts still in flight keep their signals, never aborted by it). */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    // Not holding the process open: an attempt in flight does that through its socket.
    this.#timer = setTimeout(this.#fire, Math.max(0, ms));
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    let head = this.#head;
    while (head !== undefined && head.deadline <= now) {
      this.settle(head);
      head.abort(new AttemptTimeoutError(this.#ms));
      head = this.#head;
    }
    // An abort's listener may have started an attempt (and set the timer for it): set it again for
    // the oldest deadline.
    this.close();
    const next = this.#head;
    if (next !== undefined) this.#arm(next.deadline - now);
  };
}
