import type { GatewayRequest } from '@portcullis/core';
import { FlagTimeoutError } from './errors.js';

/**
 * Answers, synchronously, whether feature flag `flag` is on for `req` (a plain function over
 * whatever the earlier guards put in `req.context`, a local flag table…).
 *
 * @example
 * ```ts
 * import type { FlagSource } from '@portcullis/router';
 *
 * const flags: FlagSource = (flag, req) => flag === 'new-checkout' && req.context.tier === 'beta';
 * ```
 */
export type FlagSource = (flag: string, req: GatewayRequest) => boolean;

/**
 * A flag source that answers asynchronously, such as an OpenFeature client
 * (`openFeatureFlags(client)`). A split with one evaluates flags in `assignAsync`, which the router
 * guard awaits, for at most the split's `flagTimeoutMs`.
 *
 * @example
 * ```ts
 * import type { AsyncFlagSource } from '@portcullis/router';
 *
 * const flags: AsyncFlagSource = {
 *   isOn: async (flag, _req, key) => (await flagService.enabledFor(key ?? 'anonymous')).includes(flag),
 * };
 * ```
 */
export interface AsyncFlagSource {
  /**
   * Whether `flag` is on for `req`. `key` is the request's sticky key (the split's `key`), the
   * natural targeting key; `undefined` when the request has none. Rejecting, or resolving with
   * anything but `true`, means off.
   */
  isOn(flag: string, req: GatewayRequest, key: string | undefined): Promise<boolean>;
}

/**
 * A flag source that failed for one request (threw, rejected, answered with an error, or had no
 * answer within `flagTimeoutMs`): the flag counted as off. Given to a split's `onFlagError`.
 *
 * @example
 * ```ts
 * import type { FlagErrorEvent } from '@portcullis/router';
 *
 * const onFlagError = ({ split, flag, error }: FlagErrorEvent) => log.warn({ split, flag, error });
 * ```
 */
export interface FlagErrorEvent {
  /** The split's name. */
  readonly split: string;
  /** The flag. */
  readonly flag: string;
  /** What went wrong: the thrown value, a `FlagEvaluationError` or a `FlagTimeoutError`. */
  readonly error: unknown;
}

/**
 * Asks `source` about every flag of `flags` at once and resolves with the index of the first flag
 * (in order) that is on, or `undefined` when none is, as soon as that is known: a flag that is on
 * does not wait for the flags after it, only for those before it. A flag with no answer after
 * `timeoutMs` counts as off. Never rejects: each failure and timeout goes to `onError`, and late
 * answers are ignored (their promises are still handled, so nothing is left unhandled). Uses one
 * timer, cleared as soon as the answer is known; the global `setTimeout` is looked up per call,
 * so fake timers steer it.
 */
export function firstFlagOn(
  source: AsyncFlagSource,
  flags: readonly string[],
  req: GatewayRequest,
  key: string | undefined,
  timeoutMs: number,
  onError: (flag: string, error: unknown) => void,
): Promise<number | undefined> {
  // Asked here in a plain loop, not in a closure, so that the closures below do not hold the
  // request: a provider that never settles keeps this wait's few small objects alive, not `req`.
  const asked: ReturnType<typeof ask>[] = [];
  for (const flag of flags) asked.push(ask(source, flag, req, key));
  return new Promise<number | undefined>((resolve) => {
    // undefined: no answer yet.
    const answers: (boolean | undefined)[] = flags.map(() => undefined);
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const decideIfKnown = (): void => {
      if (done) return;
      let chosen: number | undefined;
      for (let i = 0; i < answers.length; i++) {
        const answer = answers[i];
        if (answer === undefined) return; // a flag before any "on" is still out
        if (answer) {
          chosen = i;
          break;
        }
      }
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      resolve(chosen);
    };
    const answered = (i: number, on: boolean): void => {
      if (done || answers[i] !== undefined) return;
      answers[i] = on;
      decideIfKnown();
    };
    const failed = (i: number, error: unknown): void => {
      if (done || answers[i] !== undefined) return;
      onError(flags[i] as string, error);
      answered(i, false);
    };

    // Started first: a source that fails synchronously for every flag decides at once, and that
    // clears it.
    timer = setTimeout(function flagsTimedOut(): void {
      timer = undefined;
      answers.forEach((answer, i) => {
        if (answer === undefined) failed(i, new FlagTimeoutError(flags[i] as string, timeoutMs));
      });
    }, timeoutMs);
    asked.forEach((answer, i) => {
      if ('thrown' in answer) {
        failed(i, answer.thrown);
        return;
      }
      answer.promise.then(
        (on) => {
          // Typed boolean, but written by users: anything but true is off.
          answered(i, (on as unknown) === true);
        },
        (error: unknown) => {
          failed(i, error);
        },
      );
    });
  });
}

/** Asks one flag; a source that throws instead of rejecting is caught here. */
function ask(
  source: AsyncFlagSource,
  flag: string,
  req: GatewayRequest,
  key: string | undefined,
): { readonly promise: Promise<boolean> } | { readonly thrown: unknown } {
  try {
    return { promise: Promise.resolve(source.isOn(flag, req, key)) };
  } catch (thrown) {
    return { thrown };
  }
}
