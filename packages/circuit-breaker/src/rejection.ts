/**
 * A thenable that rejects with `reason`. Returned from a `then` handler, it rejects the derived
 * promise through the resolving function, without a `throw`: in V8 a throw inside a reaction job
 * costs an exception unwind, two to three times the rest of a rejection, and a rejected promise
 * made before anyone listens (`Promise.reject`) is tracked as possibly unhandled and then
 * untracked. This is how refusals and closed-path failures stay cheap under a storm.
 */
class Rejection {
  readonly #reason: unknown;

  constructor(reason: unknown) {
    this.#reason = reason;
  }

  then(_onFulfilled: unknown, onRejected: (reason: unknown) => void): void {
    onRejected(this.#reason);
  }
}

/** A value for a `then` handler to return so that the promise it settles rejects with `reason`. */
export function rejection(reason: unknown): PromiseLike<never> {
  return new Rejection(reason) as unknown as PromiseLike<never>;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A function returning a promise that rejects with `reason` one microtask later, once the caller
 * listens; its thenable is built once, so each call allocates only the promise.
 */
export function rejecter(reason: unknown): () => Promise<never> {
  const thenable = rejection(reason);
  const toThenable = (): PromiseLike<never> => thenable;
  return () => RESOLVED.then(toThenable);
}
