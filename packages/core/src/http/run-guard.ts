import type { Guard } from '../guard.js';
import { reportUnhandled } from '../report-error.js';
import type { GatewayRequest } from '../request.js';
import type { Verdict } from '../verdict.js';
import { isPromiseLike } from './promise-like.js';

/**
 * Runs `guard` and hands its verdict to `onVerdict`, or what it threw or rejected with to
 * `onError`. A guard that answers synchronously is handled synchronously: no promise, no microtask.
 *
 * The callbacks are expected not to throw (adapters catch inside them, because only they know
 * where an error should go). Should one throw anyway on the asynchronous path, the error is
 * reported rather than left as an unhandled rejection.
 */
export function runGuard(
  guard: Guard<object>,
  request: GatewayRequest,
  onVerdict: (verdict: Verdict) => void,
  onError: (error: unknown) => void,
): void {
  let verdict: Verdict | PromiseLike<Verdict>;
  try {
    // A context type is any object; at run time it is read as a property bag.
    verdict = guard(request) as Verdict | PromiseLike<Verdict>;
  } catch (error) {
    onError(error);
    return;
  }
  if (!isPromiseLike(verdict)) {
    onVerdict(verdict);
    return;
  }
  Promise.resolve(verdict).then(onVerdict, onError).catch(reportAdapterError);
}

/** Reports an error thrown by an adapter's verdict callback on the asynchronous path. */
export function reportAdapterError(error: unknown): void {
  reportUnhandled(error, 'adapter');
}

/**
 * Throws a `TypeError` unless `verdict` is a verdict: a guard that resolves to `undefined` or a
 * misspelt action is a bug that should reach the framework's error path, not pass silently.
 */
export function assertVerdict(verdict: unknown): asserts verdict is Verdict {
  const action = (verdict as { action?: unknown } | null | undefined)?.action;
  if (action !== 'continue' && action !== 'respond') {
    throw new TypeError(
      `A guard returned ${describe(verdict)} instead of a verdict ({ action: 'continue' | 'respond' })`,
    );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const action = (value as { action?: unknown }).action;
  if (action === undefined) return 'an object without an action';
  return `an object with action ${typeof action === 'string' ? JSON.stringify(action) : typeof action}`;
}
