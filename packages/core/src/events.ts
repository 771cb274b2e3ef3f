import { reportUnhandled } from './report-error.js';

/**
 * A map from event name to the payload its listeners receive; an interface or a type literal
 * (`{ open: { name: string } }`).
 */
export type EventMap<Events> = { [K in keyof Events]: unknown };

/** A listener for event `K` of `Events`. */
export type Listener<Events, K extends keyof Events> = (event: Events[K]) => void;

/**
 * A tiny typed event emitter. Primitives use it for decisions, state changes, fetches and so on;
 * libraries never log. Listeners run synchronously in registration order; a listener that throws is
 * reported (see {@link reportUnhandled}) and never breaks the primitive or the other listeners.
 * Emitting with no listeners costs one property lookup, so hot paths may emit freely.
 *
 * @example
 * ```ts
 * import { Emitter } from '@portcullis/core';
 *
 * const events = new Emitter<{ open: { name: string }; close: { name: string } }>();
 * const off = events.on('open', (e) => console.log('opened', e.name));
 * events.emit('open', { name: 'users' });
 * off();
 * ```
 */
export class Emitter<Events extends EventMap<Events>> {
  // Arrays are replaced, never mutated, so emit can iterate without copying.
  readonly #listeners = new Map<keyof Events, readonly Listener<Events, keyof Events>[]>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(type: K, listener: Listener<Events, K>): () => void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener as Listener<Events, keyof Events>]);
    return () => {
      this.off(type, listener);
    };
  }

  /** Adds a listener that is removed after its first call. */
  once<K extends keyof Events>(type: K, listener: Listener<Events, K>): () => void {
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /** Removes a listener added with {@link Emitter.on}. */
  off<K extends keyof Events>(type: K, listener: Listener<Events, K>): void {
    const current = this.#listeners.get(type);
    if (current === undefined) return;
    const next = current.filter((l) => l !== listener);
    if (next.length === 0) this.#listeners.delete(type);
    else this.#listeners.set(type, next);
  }

  /** True when at least one listener is registered for `type` (build costly payloads only then). */
  has(type: keyof Events): boolean {
    return this.#listeners.has(type);
  }

  /** Calls every listener of `type` with `event`. */
  emit<K extends keyof Events>(type: K, event: Events[K]): void {
    const listeners = this.#listeners.get(type);
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        reportUnhandled(error, 'event listener');
      }
    }
  }
}
