import type { ServerResponse } from 'node:http';

/**
 * What the forwarder reads of a cancellation signal: the part of `AbortSignal` that undici reads
 * too. An `AbortSignal` is one; so is a {@link Cancellation}.
 */
export interface CancelSignal {
  /** Whether it has fired. */
  readonly aborted: boolean;
  /** Why it fired (`undefined` until it has). */
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A cancellation signal that costs a plain object: an `AbortController` and its `AbortSignal` (an
 * `EventTarget`) cost several µs each on Node 20, once per request and again per attempt, which
 * the gateway's per-request budget cannot afford. Listeners run once, in the order added, when
 * {@link Cancellation.abort} is first called; a listener added after that never runs (as with an
 * `AbortSignal`, whose `abort` event has passed).
 *
 * @example
 * ```ts
 * const gone = new Cancellation();
 * setTimeout(() => gone.abort(new Error('too late')), 5000);
 * await forwarder.forward({ ...request, signal: gone });
 * ```
 */
export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  // One listener is the common case (undici's); more go into an array.
  #first: (() => void) | undefined = undefined;
  #more: (() => void)[] | undefined = undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    if (this.#first === undefined) this.#first = listener;
    else (this.#more ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.#first === listener) {
      this.#first = this.#more?.shift();
      return;
    }
    const more = this.#more;
    const at = more === undefined ? -1 : more.indexOf(listener);
    if (at !== -1) more?.splice(at, 1);
  }

  /** Fires the signal (the first call only): `reason` is kept, every listener runs once. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const first = this.#first;
    const more = this.#more;
    this.#first = undefined;
    this.#more = undefined;
    first?.();
    if (more !== undefined) for (const listener of more) listener();
  }
}

/** The client closed its connection before its answer was sent: the reason its request's signal aborts with. */
export class ClientGoneError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ERR_PORTCULLIS_CLIENT_GONE';
  constructor() {
    super('the client closed the connection before its answer was sent');
  }
}

/** The cancellation of each watched response (weakly: it goes with its response). */
const watched = new WeakMap<ServerResponse, Cancellation>();

// One function for every response (`this` is the response), so watching one costs no closure,
// nor the wrapper `once` makes: a response closes once. A WeakMap rather than a property on the
// response: a property added to Node's responses would give them a second shape everywhere.
function onResponseClose(this: ServerResponse): void {
  if (!this.writableFinished) watched.get(this)?.abort(new ClientGoneError());
}

/**
 * A {@link Cancellation} that fires with a {@link ClientGoneError} when the response closes before
 * it was sent whole: the client went away.
 *
 * @example
 * ```ts
 * const gone = cancelWhenClientLeaves(reply.raw);
 * await forwarder.forward({ ...request, signal: gone });
 * ```
 */
export function cancelWhenClientLeaves(res: ServerResponse): Cancellation {
  const gone = new Cancellation();
  watched.set(res, gone);
  res.on('close', onResponseClose);
  return gone;
}
