import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Drains one `node:http` (or `https`) server with what Node itself offers (`close()`,
 * `closeIdleConnections()`, `closeAllConnections()`, Node ≥ 18.2): the requests in flight are
 * counted from creation on; on `close(capMs)` the server stops accepting connections, idle
 * keep-alive connections are closed at once, responses not yet started get `Connection: close`
 * (so are requests that still arrive on open connections), each connection is closed as its last
 * response ends, and whatever is left at the cap is closed by force.
 */
export class ServerDrain {
  readonly #server: Server;
  /** Responses in flight: bounded by the connections the server holds. */
  readonly #active = new Set<ServerResponse>();
  #closing = false;

  constructor(server: Server) {
    this.#server = server;
    // First, so the header is set before the application's own listener runs.
    server.prependListener('request', this.#onRequest);
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#active.size;
  }

  readonly #onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    this.#active.add(res);
    if (this.#closing) keepNoLonger(res);
    res.once('close', () => {
      this.#active.delete(res);
      if (this.#closing) this.#server.closeIdleConnections();
    });
  };

  /**
   * Stops accepting, lets the requests in flight finish for up to `capMs`, then closes every
   * connection left. Resolves with how many requests were cut off at the cap.
   */
  close(capMs: number): Promise<{ readonly cutOff: number }> {
    this.#closing = true;
    for (const res of this.#active) keepNoLonger(res);
    return new Promise((resolve) => {
      let settled = false;
      const done = (cutOff: number): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ cutOff });
      };
      const timer = setTimeout(() => {
        const cutOff = this.#active.size;
        this.#server.closeAllConnections();
        // Upgraded (WebSocket) sockets are not Node's to close: they do not hold this up.
        done(cutOff);
      }, capMs);
      // A server that is not listening (closed already) answers with an error: drained all the same.
      this.#server.close(() => {
        done(0);
      });
      this.#server.closeIdleConnections();
    });
  }

  /** Stops counting requests. */
  dispose(): void {
    this.#server.off('request', this.#onRequest);
  }
}

function keepNoLonger(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
}
