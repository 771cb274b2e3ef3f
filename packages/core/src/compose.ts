import type { ContextOf, Guard } from './guard.js';
import { withContext, type GatewayRequest, type GuardContext } from './request.js';
import { CONTINUE, type OnComplete, type Outcome, type RespondVerdict, type Verdict } from './verdict.js';

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The context a composition adds: the intersection of what each guard adds. */
export type ComposedContext<G extends readonly Guard<object>[]> = [G[number]] extends [never]
  ? GuardContext
  : UnionToIntersection<ContextOf<G[number]>> & GuardContext;

/**
 * Runs guards in order as one guard.
 *
 * - Each guard sees the context added by the guards before it (`req.context`).
 * - The first `respond` wins; later guards do not run. Response headers of the guards that
 *   continued before it are added to its response (its own headers win on a clash).
 * - When all continue: response headers are appended per name, upstream headers are set (a later
 *   guard wins), strip lists are concatenated (adapters strip first, then set), contexts are
 *   shallow-merged (a later guard wins per key).
 * - Every `onComplete` of the guards that ran is called exactly once: through the returned verdict
 *   when the request ends, or — when a later guard throws — at once with status 500 and the error,
 *   before the error is passed on.
 * - No promise is created unless a guard returns one.
 *
 * @example
 * ```ts
 * import { compose, type Guard } from '@portcullis/core';
 *
 * const identify: Guard<{ user: string }> = (req) => ({
 *   action: 'continue',
 *   context: { user: req.header('x-user') ?? 'anonymous' },
 * });
 * const blockAnonymous: Guard = (req) =>
 *   req.context['user'] === 'anonymous' ? { action: 'respond', status: 401 } : { action: 'continue' };
 *
 * const guard = compose(identify, blockAnonymous);
 * ```
 */
export function compose<const G extends readonly Guard<object>[]>(...guards: G): Guard<ComposedContext<G>> {
  const list: readonly Guard<object>[] = guards;
  for (const [i, g] of list.entries()) {
    if (typeof g !== 'function') throw new TypeError(`compose: guard ${String(i)} is not a function`);
  }
  if (list.length === 1) return list[0] as Guard<ComposedContext<G>>;
  return function composed(req: GatewayRequest) {
    return run(list, req, new Accumulator(req.context), 0) as Verdict<ComposedContext<G>>;
  };
}

function run(
  guards: readonly Guard<object>[],
  req: GatewayRequest,
  acc: Accumulator,
  from: number,
): Verdict | Promise<Verdict> {
  for (let i = from; i < guards.length; i++) {
    const guard = guards[i] as Guard;
    let verdict: Verdict | PromiseLike<Verdict>;
    try {
      verdict = guard(acc.requestFor(req));
    } catch (error) {
      throw acc.fail(error);
    }
    if (isPromiseLike(verdict)) {
      return Promise.resolve(verdict).then(
        (resolved): Verdict | Promise<Verdict> =>
          acc.take(resolved) ? acc.respondVerdict(resolved) : run(guards, req, acc, i + 1),
        (error: unknown) => {
          throw acc.fail(error);
        },
      );
    }
    if (acc.take(verdict)) return acc.respondVerdict(verdict);
  }
  return acc.continueVerdict();
}

/** What the guards that ran so far have added. */
class Accumulator {
  readonly #initial: GuardContext;
  #context: GuardContext;
  #contextChanged = false;
  #request: GatewayRequest | undefined;
  #responseHeaders: Headers | undefined;
  #upstreamHeaders: Headers | undefined;
  #strip: string[] | undefined;
  #completes: OnComplete[] | undefined;
  #startedAt = 0;

  constructor(initial: GuardContext) {
    this.#initial = initial;
    this.#context = initial;
  }

  requestFor(req: GatewayRequest): GatewayRequest {
    if (!this.#contextChanged) return req;
    this.#request ??= withContext(req, this.#context);
    return this.#request;
  }

  /** Records a verdict; returns true when it is a `respond` (the composition stops). */
  take(verdict: Verdict): verdict is RespondVerdict {
    if (verdict.onComplete !== undefined) {
      if (this.#completes === undefined) {
        this.#completes = [];
        this.#startedAt = performance.now();
      }
      this.#completes.push(verdict.onComplete);
    }
    if (verdict.action === 'respond') return true;
    if (verdict.context !== undefined) {
      this.#context = { ...this.#context, ...verdict.context };
      this.#contextChanged = true;
      this.#request = undefined;
    }
    if (verdict.responseHeaders !== undefined) {
      this.#responseHeaders ??= new Headers();
      for (const [name, value] of verdict.responseHeaders) this.#responseHeaders.append(name, value);
    }
    if (verdict.upstreamHeaders !== undefined) {
      this.#upstreamHeaders ??= new Headers();
      for (const [name, value] of verdict.upstreamHeaders) this.#upstreamHeaders.set(name, value);
    }
    if (verdict.stripUpstreamHeaders !== undefined) {
      (this.#strip ??= []).push(...verdict.stripUpstreamHeaders);
    }
    return false;
  }

  continueVerdict(): Verdict {
    if (
      !this.#contextChanged &&
      this.#responseHeaders === undefined &&
      this.#upstreamHeaders === undefined &&
      this.#strip === undefined &&
      this.#completes === undefined
    ) {
      return CONTINUE;
    }
    return {
      action: 'continue',
      context: this.#contextChanged ? this.#addedContext() : undefined,
      responseHeaders: this.#responseHeaders,
      upstreamHeaders: this.#upstreamHeaders,
      stripUpstreamHeaders: this.#strip,
      onComplete: this.#mergedOnComplete(),
    };
  }

  respondVerdict(verdict: RespondVerdict): Verdict {
    let headers = verdict.headers;
    if (this.#responseHeaders !== undefined) {
      const merged = new Headers(this.#responseHeaders);
      if (headers !== undefined) for (const [name, value] of headers) merged.set(name, value);
      headers = merged;
    }
    return {
      action: 'respond',
      status: verdict.status,
      headers,
      body: verdict.body,
      onComplete: this.#mergedOnComplete(),
    };
  }

  /** A guard threw: tell the guards that already ran, then hand back the error to rethrow. */
  fail(error: unknown): unknown {
    const onComplete = this.#mergedOnComplete();
    if (onComplete !== undefined) {
      const outcome: Outcome = { status: 500, durationMs: performance.now() - this.#startedAt, error };
      try {
        onComplete(outcome);
      } catch (completeError) {
        return new AggregateError([error, completeError], 'A guard threw, and so did an onComplete callback');
      }
    }
    return error;
  }

  /** Only what the composed guards added, not the context they were given. */
  #addedContext(): GuardContext {
    if (this.#initial === this.#context) return this.#context;
    const added: Record<string, unknown> = {};
    for (const key of Object.keys(this.#context)) {
      if (!(key in this.#initial) || this.#initial[key] !== this.#context[key]) added[key] = this.#context[key];
    }
    return added;
  }

  #mergedOnComplete(): OnComplete | undefined {
    const completes = this.#completes;
    if (completes === undefined) return undefined;
    if (completes.length === 1) return completes[0];
    return function onComplete(outcome: Outcome): void {
      const errors: unknown[] = [];
      for (const complete of completes) {
        try {
          complete(outcome);
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, 'Several onComplete callbacks threw');
    };
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
