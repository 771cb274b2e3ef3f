import type { ServerResponse } from 'node:http';
import { PROBLEM_JSON, problemDetails } from '@portcullis/core';

/**
 * Answers with RFC 9457 problem details, or, when the response already started, cuts it (the only
 * way left to tell the client). `close` asks the client to open a new connection: the request's
 * body was not read to its end, or its framing cannot be trusted.
 */
export function writeProblem(res: ServerResponse, status: number, detail: string, close: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(problemDetails(status, detail));
  res.statusCode = status;
  res.setHeader('content-type', PROBLEM_JSON);
  res.setHeader('content-length', Buffer.byteLength(body));
  if (close) res.setHeader('connection', 'close');
  res.end(body);
}
