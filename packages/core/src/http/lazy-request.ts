import { defineLowerCaseRead, lowerCaseHeader, type GatewayRequest, type GuardContext } from '../request.js';

/**
 * Builds the `AbortSignal` of a request from the framework's request or context. Module-level
 * functions, so no closure is allocated per request.
 */
export type SignalOf<S> = (source: S) => AbortSignal | undefined;

/**
 * A {@link GatewayRequest} whose `signal` is built on first access, from `source` (the framework's
 * request or context): wiring a signal to the connection costs an `AbortController` and a
 * listener, which most guards never need. Everything else comes from `base`, built by
 * `createGatewayRequest`, which already parses the query lazily.
 *
 * `ip` is deliberately not lazy: Node forgets a socket's peer address once it closes, and a guard
 * may read `req.ip` from its `onComplete`, after the response.
 */
export class LazyGatewayRequest<S> implements GatewayRequest {
  readonly method: string;
  readonly path: string;
  readonly context: GuardContext;
  readonly ip: string | undefined;
  readonly header: (name: string) => string | undefined;
  readonly #base: GatewayRequest;
  readonly #source: S;
  readonly #signalOf: SignalOf<S>;
  #signal: AbortSignal | undefined;
  #signalRead = false;

  constructor(base: GatewayRequest, source: S, signalOf: SignalOf<S>) {
    this.method = base.method;
    this.path = base.path;
    this.context = base.context;
    this.ip = base.ip;
    // An own property holding the base's closure (which does not use `this`), so
    // `const { header } = req` keeps working as it does on the base.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    this.header = base.header;
    this.#base = base;
    this.#source = source;
    this.#signalOf = signalOf;
  }

  get query(): URLSearchParams {
    return this.#base.query;
  }

  get signal(): AbortSignal | undefined {
    if (!this.#signalRead) {
      this.#signal = this.#signalOf(this.#source);
      this.#signalRead = true;
    }
    return this.#signal;
  }

  static {
    defineLowerCaseRead(this.prototype, function read(lowerCaseName) {
      return lowerCaseHeader(this.#base, lowerCaseName);
    });
  }
}
