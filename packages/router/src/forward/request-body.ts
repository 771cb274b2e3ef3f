import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

const kBody = Symbol('portcullis.forward.body');

interface TrackedRequest extends IncomingMessage {
  [kBody]?: RequestBody | undefined;
}

/**
 * The client's request body as undici reads it: pulled from the request as undici asks (so
 * backpressure reaches the client), and a layer undici may destroy without destroying the client's
 * request (undici destroys a body stream when the exchange fails; destroying Node's request would
 * drop the client's connection before it could be told `502`). `started` tells whether any byte
 * was taken, i.e. whether the body can still be sent to another endpoint.
 */
export class RequestBody extends Readable {
  readonly #req: TrackedRequest;
  #started = false;
  #detached = false;

  constructor(req: IncomingMessage) {
    super({ highWaterMark: 64 * 1024 });
    this.#req = req;
    this.#req[kBody] = this;
    req.on('data', onRequestData);
    req.on('end', onRequestEnd);
    req.on('error', onRequestError);
    req.pause();
  }

  /** True once a byte of the body was handed on (it can no longer be replayed). */
  get started(): boolean {
    return this.#started;
  }

  override _read(): void {
    this.#started = true;
    this.#req.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.detach();
    callback(error);
  }

  /** Stops listening to the request, which stays as it is (paused, not destroyed). */
  detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    const req = this.#req;
    req.off('data', onRequestData);
    req.off('end', onRequestEnd);
    req.off('error', onRequestError);
    req.pause();
    if (req[kBody] === this) req[kBody] = undefined;
  }
}

// Module-level listeners (the request carries its body wrapper): no closure per request.
function onRequestData(this: TrackedRequest, chunk: Buffer): void {
  const body = this[kBody];
  if (body !== undefined && !body.push(chunk)) this.pause();
}

function onRequestEnd(this: TrackedRequest): void {
  this[kBody]?.push(null);
}

function onRequestError(this: TrackedRequest, error: Error): void {
  this[kBody]?.destroy(error);
}
