import { finiteNumber } from '@portcullis/core';
import { constant, overageInUse, remainingOf, type Algorithm, type Evaluation, type LimitState } from './types.js';

/** Most units a sliding log may allow per window: its state grows with the limit. */
export const MAX_SLIDING_LOG_LIMIT = 10_000;

/** Options of {@link slidingLog}. */
export interface SlidingLogOptions {
  /** Units allowed in any window of `windowMs`; a whole number up to 10,000. */
  limit: number;
  /** Window length in ms. Must be > 0. */
  windowMs: number;
  /** Extra whole units allowed beyond `limit` and reported as overage (soft limit). Default 0. */
  overage?: number;
}

/**
 * Sliding log: remembers when each admitted unit was charged and admits a request only if the units
 * charged in the last `windowMs` plus its cost stay within the limit. Exact — no window of length
 * `windowMs` ever sees more than `limit` (+ `overage`) — at a memory cost that grows with the limit,
 * so it is meant for small limits (≤ 10,000; costs must be whole numbers). State:
 * `[t1, cost1, t2, cost2, …]`, oldest first.
 *
 * @example
 * ```ts
 * import { slidingLog } from '@portcullis/ratelimit';
 *
 * // Exactly 5 password attempts in any 15 minutes.
 * const logins = slidingLog({ limit: 5, windowMs: 15 * 60_000 });
 * ```
 */
export function slidingLog(options: SlidingLogOptions): Algorithm {
  const limit = finiteNumber(options.limit, 'limit', { min: 1, max: MAX_SLIDING_LOG_LIMIT, integer: true });
  const windowMs = finiteNumber(options.windowMs, 'windowMs', { min: 0, minExclusive: true });
  const overage = finiteNumber(options.overage ?? 0, 'overage', { min: 0, integer: true });
  const hard = limit + overage;

  /** Entries still inside the window ending at `now`, and their total. */
  function live(state: LimitState | undefined, now: number): { entries: number[]; used: number } {
    const entries: number[] = [];
    let used = 0;
    if (state !== undefined) {
      for (let i = 0; i + 1 < state.length; i += 2) {
        const at = state[i] as number;
        const cost = state[i + 1] as number;
        if (at > now - windowMs) {
          entries.push(at, cost);
          used += cost;
        }
      }
    }
    return { entries, used };
  }

  function settle(entries: number[], used: number, now: number, allowed: boolean, retryAfterMs: number): Evaluation {
    const newest = entries.length > 0 ? (entries[entries.length - 2] as number) : undefined;
    const resetAt = newest === undefined ? now : newest + windowMs;
    return {
      allowed,
      remaining: remainingOf(hard - used, overage),
      overage: overageInUse(hard - used, overage),
      resetAt,
      retryAfterMs,
      next: entries.length > 0 ? entries : undefined,
      ttlMs: resetAt - now,
    };
  }

  return {
    kind: 'sliding-log',
    limit,
    overage,
    windowMs,
    evaluate: function evaluate(state, now, cost) {
      const { entries, used } = live(state, now);
      if (used + cost <= hard) {
        const n = entries.length;
        // Charges of one millisecond share an entry: their units leave the window together.
        if (cost > 0 && n > 0 && entries[n - 2] === now) entries[n - 1] = (entries[n - 1] as number) + cost;
        else if (cost > 0) entries.push(now, cost);
        return settle(entries, used + cost, now, true, 0);
      }
      if (cost > hard) return settle(entries, used, now, false, Infinity);
      // Wait until enough of the oldest entries have left the window.
      let freed = 0;
      let retryAt = now;
      for (let i = 0; i < entries.length && used - freed + cost > hard; i += 2) {
        freed += entries[i + 1] as number;
        retryAt = (entries[i] as number) + windowMs;
      }
      return settle(entries, used, now, false, Math.max(1, Math.ceil(retryAt - now)));
    },
    refund: function refund(state, now, amount, chargedAt) {
      const { entries, used } = live(state, now);
      // The decision's units are those charged at its instant, all alike (they leave the window
      // together): give back `amount` of them, from every entry of that millisecond (a log written
      // before charges were merged per millisecond may hold several).
      let back = 0;
      for (let i = entries.length - 2; i >= 0 && back < amount; i -= 2) {
        if (entries[i] !== chargedAt) continue;
        const take = Math.min(amount - back, entries[i + 1] as number);
        back += take;
        entries[i + 1] = (entries[i + 1] as number) - take;
        if (entries[i + 1] === 0) entries.splice(i, 2);
      }
      return settle(entries, used - back, now, true, 0);
    },
    scriptParams: constant([hard, overage, windowMs]),
  };
}
