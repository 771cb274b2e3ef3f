import type { FastifyRequest } from 'fastify';
import { nodeHeader } from '../http/node-headers.js';
import { defineLowerCaseRead, lowerCase, splitUrl, type GatewayRequest, type GuardContext } from '../request.js';

const EMPTY_CONTEXT: GuardContext = Object.freeze({});

/**
 * The {@link GatewayRequest} of a Fastify request: one object per request, where
 * `createGatewayRequest` wrapped in a `LazyGatewayRequest` made two requests and two header
 * closures. The same view: the method in upper case, the path and (parsed on first access) query
 * of `request.url`, `request.ip`, `request.portcullis` as the context, and `request.signal` built
 * on first access (an `AbortController` and a listener, which most guards never need).
 *
 * `ip` is read now, not lazily: Node forgets a socket's peer address once it closes, and a guard
 * may read `req.ip` from its `onComplete`, after the response.
 */
export class FastifyGatewayRequest implements GatewayRequest {
  readonly method: string;
  readonly path: string;
  readonly ip: string | undefined;
  readonly context: GuardContext;
  /** An own property holding a closure that does not use `this`: `const { header } = req` works. */
  readonly header: (name: string) => string | undefined;
  readonly #request: FastifyRequest;
  readonly #search: string;
  #query: URLSearchParams | undefined;

  constructor(request: FastifyRequest) {
    const { path, search } = splitUrl(request.url);
    const raw = request.raw;
    this.method = request.method.toUpperCase();
    this.path = path;
    this.ip = request.ip;
    this.context = request.portcullis ?? EMPTY_CONTEXT;
    this.header = function header(name: string): string | undefined {
      return nodeHeader(raw, lowerCase(name));
    };
    this.#request = request;
    this.#search = search;
  }

  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.#search);
    return this.#query;
  }

  /** Fastify builds it on first access and keeps it. */
  get signal(): AbortSignal {
    return this.#request.signal;
  }

  static {
    defineLowerCaseRead(this.prototype, function read(lowerCaseName) {
      return nodeHeader(this.#request.raw, lowerCaseName);
    });
  }
}
