import { KIND_CODES, type Algorithm } from '../../algorithms/types.js';
import { MAX_STATE_TTL_MS } from './script.js';

/**
 * One dimension's parameters for the script at one instant (see `PARAMS` in script.ts), shared by
 * every operation on the same algorithm (and, for a fixed window, the same window).
 */
export interface ScriptSetting {
  /** The algorithm's code (`tb`, `fw`, …). */
  readonly code: string;
  readonly params: readonly [number, number, number];
  /** A fixed window's bounds (ms) and its start as text (part of its key); else NaN and ''. */
  readonly start: number;
  readonly end: number;
  readonly startText: string;
}

/** Whole ms in [1, MAX_STATE_TTL_MS]. */
function ttl(ms: number): number {
  const px = Math.ceil(ms);
  return px > MAX_STATE_TTL_MS ? MAX_STATE_TTL_MS : px >= 1 ? px : 1;
}

/** A little more than `ms`: what a wait computed in doubles may need beyond its estimate. */
const margin = (ms: number): number => ms * (1 + 2 ** -40) + 2;

/** Settings by the algorithm's parameter array (fixed windows: the last window asked about). */
const cache = new WeakMap<readonly number[], ScriptSetting>();

/**
 * The script's parameters for `algorithm` at the instant `at` (the caller's time, or this process's
 * best guess of the Redis server's). A fixed window's are those of the window holding `at`.
 */
export function scriptSetting(algorithm: Algorithm, at: number): ScriptSetting {
  const params = algorithm.scriptParams(at);
  const cached = cache.get(params);
  if (algorithm.kind === 'fixed-window') {
    // [hard, overage, 0, length] (epoch-aligned) or [hard, overage, 1, b0, b1, b2, b3] (calendar:
    // the boundaries around `at`, which lies in [b1, b2)).
    let start: number;
    let end: number;
    if (params[2] === 0) {
      const length = params[3] as number;
      start = Math.floor(at / length) * length;
      end = start + length;
    } else {
      start = params[4] as number;
      end = params[5] as number;
    }
    if (cached?.start === start && cached.end === end) return cached;
    const setting: ScriptSetting = {
      code: 'fw',
      params: [params[0] as number, start, end],
      start,
      end,
      startText: String(start),
    };
    cache.set(params, setting);
    return setting;
  }
  if (cached !== undefined) return cached;
  const setting: ScriptSetting = {
    code: KIND_CODES[algorithm.kind],
    params: otherParams(algorithm, params),
    start: Number.NaN,
    end: Number.NaN,
    startText: '',
  };
  cache.set(params, setting);
  return setting;
}

function otherParams(algorithm: Algorithm, params: readonly number[]): [number, number, number] {
  switch (algorithm.kind) {
    case 'token-bucket': {
      // [capacity, ratePerMs, overage]. A state written at `now` is a full bucket (the same as no
      // state) by now + hard / rate: the span after which the key's expiry is renewed (to twice it).
      const [capacity = 0, rate = 1, overage = 0] = params;
      const hard = capacity + overage;
      return [hard, rate, Math.min(ttl(margin(hard / rate)), Math.floor(MAX_STATE_TTL_MS / 2))];
    }
    case 'gcra': {
      // [interval, hard, overage]: an admitted charge leaves the arrival time at most the horizon ahead.
      const [interval = 1, hard = 0] = params;
      return [interval, hard, ttl(margin(hard * interval + 1e-3))];
    }
    case 'sliding-window': {
      // [hard, overage, length]: a count lives until the end of the window after its own.
      const [hard = 0, , length = 1] = params;
      return [hard, length, ttl(2 * length)];
    }
    default: {
      // Sliding log, [hard, overage, windowMs]: its expiry follows its newest entry (the script's).
      const [hard = 0, , windowMs = 1] = params;
      return [hard, windowMs, 0];
    }
  }
}
