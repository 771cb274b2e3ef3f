import { finiteNumber } from '@portcullis/core';
import { allocating, constant, type Algorithm, type EvaluationSlot, type LimitState, fillSlot } from './types.js';

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

  /** Writes the entries still inside the window ending at `now` into `out.next`; returns their total. */
  function live(state: LimitState | undefined, now: number, out: EvaluationSlot): number {
    const entries = out.next;
    let n = 0;
    let used = 0;
    if (state !== undefined) {
      for (let i = 0; i + 1 < state.length; i += 2) {
        const at = state[i] as number;
        const cost = state[i + 1] as number;
        if (at > now - windowMs) {
          entries[n++] = at;
          entries[n++] = cost;
          used += cost;
        }
      }
    }
    out.nextLength = n;
    return used;
  }

  /** Completes `out`, whose entries (`out.next`) are already the log to keep. */
  function settle(used: number, now: number, allowed: boolean, retryAfterMs: number, out: EvaluationSlot): void {
    const n = out.nextLength;
    const resetAt = n > 0 ? (out.next[n - 2] as number) + windowMs : now;
    fillSlot(out, allowed, hard - used, overage, resetAt, retryAfterMs, resetAt - now);
  }

  return {
    kind: 'sliding-log',
    limit,
    overage,
    windowMs,
    ...allocating(
      function evaluateInto(state, now, cost, out) {
        const used = live(state, now, out);
        const entries = out.next;
        const n = out.nextLength;
        if (used + cost <= hard) {
          // Charges of one millisecond share an entry: their units leave the window together.
          if (cost > 0 && n > 0 && entries[n - 2] === now) entries[n - 1] = (entries[n - 1] as number) + cost;
          else if (cost > 0) {
            entries[n] = now;
            entries[n + 1] = cost;
            out.nextLength = n + 2;
          }
          settle(used + cost, now, true, 0, out);
          return;
        }
        if (cost > hard) {
          settle(used, now, false, Infinity, out);
          return;
        }
        // Wait until enough of the oldest entries have left the window.
        let freed = 0;
        let retryAt = now;
        for (let i = 0; i < n && used - freed + cost > hard; i += 2) {
          freed += entries[i + 1] as number;
          retryAt = (entries[i] as number) + windowMs;
        }
        settle(used, now, false, Math.max(1, Math.ceil(retryAt - now)), out);
      },
      function refundInto(state, now, amount, chargedAt, out) {
        const used = live(state, now, out);
        const entries = out.next;
        // The decision's units are those charged at its instant, all alike (they leave the window
        // together): give back `amount` of them, from every entry of that millisecond (a log written
        // before charges were merged per millisecond may hold several).
        let back = 0;
        for (let i = out.nextLength - 2; i >= 0 && back < amount; i -= 2) {
          if (entries[i] !== chargedAt) continue;
          const take = Math.min(amount - back, entries[i + 1] as number);
          back += take;
          entries[i + 1] = (entries[i + 1] as number) - take;
          if (entries[i + 1] === 0) {
            // Drop the emptied entry: shift the later ones down over it.
            entries.copyWithin(i, i + 2, out.nextLength);
            out.nextLength -= 2;
          }
        }
        settle(used - back, now, true, 0, out);
      },
    ),
    scriptParams: constant([hard, overage, windowMs]),
  };
}
