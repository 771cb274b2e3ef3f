import type { Clock } from '@portcullis/core';
import type { CheckRunner } from './check-runner.js';

/**
 * The background runs of every check that has an `intervalMs`, on one timer: it is set for the
 * earliest due check; when it fires, every check that is due starts a run (unless one is in
 * flight) and gets its next time, `intervalMs × (1 ± jitter)` away. The first run is due at once,
 * so results exist before the first request. The timer is unref'd: it never keeps a process alive.
 */
export class Scheduler {
  readonly #clock: Clock;
  readonly #random: () => number;
  /** Each scheduled runner and when it is next due (clock ms). */
  readonly #due = new Map<CheckRunner, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(clock: Clock, random: () => number) {
    this.#clock = clock;
    this.#random = random;
  }

  /** Checks scheduled now. */
  get size(): number {
    return this.#due.size;
  }

  add(runner: CheckRunner): void {
    this.#due.set(runner, this.#clock.now());
    this.#arm();
  }

  remove(runner: CheckRunner): void {
    this.#due.delete(runner);
    if (this.#due.size === 0) this.#disarm();
  }

  dispose(): void {
    this.#due.clear();
    this.#disarm();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    for (const [runner, due] of this.#due) {
      // Timers may fire up to a millisecond early by this clock (libuv caches its loop time).
      if (due > now + 1) continue;
      this.#due.set(runner, now + this.#wait(runner));
      runner.refresh();
    }
    this.#arm();
  }

  #wait(runner: CheckRunner): number {
    const { intervalMs = 0, jitter } = runner.config;
    return Math.max(1, Math.round(intervalMs * (1 - jitter + 2 * jitter * this.#random())));
  }

  #arm(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const due of this.#due.values()) earliest = Math.min(earliest, due);
    if (earliest >= this.#timerAt) return;
    this.#disarm();
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.#timerAt = earliest;
    this.#timer = setTimeout(
      () => {
        this.#fire();
      },
      Math.max(0, Math.ceil(earliest - this.#clock.now())),
    );
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }
}
