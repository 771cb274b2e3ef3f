import type { ServerResponse } from 'node:http';
import type { OnComplete } from '../verdict.js';
import { Completion } from './completion.js';
import { clientGone } from './node-headers.js';

/**
 * Reports how a Node response ended to `onComplete`, once: Node emits `close` on the response both
 * after it finished and when the connection dropped first, and `writableFinished` tells the two
 * apart (the latter becomes status 499, `aborted: true`). When the client is already gone, reports
 * at once, since `close` will not fire again.
 */
export function trackNodeResponse(res: ServerResponse, onComplete: OnComplete | undefined): void {
  if (onComplete === undefined) return;
  const completion = new Completion(onComplete);
  if (clientGone(res)) {
    completion.abort();
    return;
  }
  res.once('close', function reportOutcome() {
    if (res.writableFinished) completion.finish(res.statusCode);
    else completion.abort();
  });
}

/**
 * An `AbortSignal` that aborts when the client disconnects before `res` finished. Built only when a
 * guard reads `req.signal`, so requests that do not pay nothing.
 */
export function nodeResponseSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (clientGone(res)) controller.abort();
  else
    res.once('close', function abortIfUnfinished() {
      if (!res.writableFinished) controller.abort();
    });
  return controller.signal;
}
