/** A pending deadline; `cancel` when the operation settles first. */
export interface Deadline {
  cancel(): void;
}

interface Entry {
  readonly at: number;
  onExpire: (() => void) | undefined;
}

/**
 * Deadlines that all share one timeout length, served by a single timer. Because every entry has
 * the same length, deadlines arrive in order and a FIFO suffices: O(1) to add, cancel and expire,
 * and one timer for any number of in-flight store calls (rather than a timer per call).
 */
export class DeadlineQueue {
  readonly #timeoutMs: number;
  #entries: Entry[] = [];
  #head = 0;
  #scheduled = false;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Calls `onExpire` after the timeout unless cancelled first. */
  add(onExpire: () => void): Deadline {
    const entry: Entry = { at: performance.now() + this.#timeoutMs, onExpire };
    this.#entries.push(entry);
    if (!this.#scheduled) this.#schedule(this.#timeoutMs);
    return {
      cancel: () => {
        entry.onExpire = undefined;
      },
    };
  }

  #schedule(delay: number): void {
    this.#scheduled = true;
    const timer = setTimeout(
      () => {
        this.#expire();
      },
      Math.max(0, delay),
    );
    // A pending store call must not keep the process alive on its own.
    timer.unref();
  }

  #expire(): void {
    this.#scheduled = false;
    const now = performance.now();
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head] as Entry;
      if (entry.onExpire !== undefined && entry.at > now) break;
      this.#head++;
      entry.onExpire?.();
    }
    // Drop served entries now and then so the array does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    const next = this.#entries[this.#head];
    if (next !== undefined) this.#schedule(next.at - now);
  }
}
