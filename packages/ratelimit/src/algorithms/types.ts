/**
 * The stored state of one limit for one key: a few numbers, the same in memory and in Redis, so
 * both stores run the same arithmetic.
 */
export type LimitState = readonly number[];

/** The kinds of algorithm; also the tag the Redis script dispatches on. */
export type AlgorithmKind = 'token-bucket' | 'gcra' | 'fixed-window' | 'sliding-window' | 'sliding-log';

/**
 * `scriptParams` for parameters that never change: one array, handed out every time, so a store
 * can cache what it derives from it (the Redis store's argument strings) by identity.
 */
export function constant(params: readonly number[]): () => readonly number[] {
  return () => params;
}

/** Short codes of the algorithms: in storage keys, and how the Redis script names them. */
export const KIND_CODES: Readonly<Record<AlgorithmKind, string>> = {
  'token-bucket': 'tb',
  gcra: 'gc',
  'fixed-window': 'fw',
  'sliding-window': 'sw',
  'sliding-log': 'sl',
};

/** What one algorithm decides for one key at one instant. */
export interface Evaluation {
  /** Whether `cost` fits. */
  readonly allowed: boolean;
  /**
   * Units still available after this decision (after consuming when allowed), against the limit
   * without any overage allowance; never negative.
   */
  readonly remaining: number;
  /** Units of the overage allowance in use after this decision (0 without overage). */
  readonly overage: number;
  /** When the limit is fully available again (ms, same clock as `now`). */
  readonly resetAt: number;
  /** How long until the same cost would fit; 0 when allowed, `Infinity` when it never can. */
  readonly retryAfterMs: number;
  /** The state to store if the decision commits; `undefined` means "nothing stored" (pristine). */
  readonly next: LimitState | undefined;
  /** How long the stored state must live; after that it is equivalent to no state at all. */
  readonly ttlMs: number;
}

/**
 * One evaluation written in place: the fields of an {@link Evaluation}, with the next state in
 * `next[0 … nextLength)` (`nextLength` 0: nothing stored, pristine). The memory store keeps one and
 * reuses it for every decision, so deciding allocates nothing; whoever keeps a result copies it.
 */
export interface EvaluationSlot {
  allowed: boolean;
  remaining: number;
  overage: number;
  resetAt: number;
  retryAfterMs: number;
  ttlMs: number;
  /** Holds the next state in its first `nextLength` numbers; may be longer (left from earlier use). */
  readonly next: number[];
  nextLength: number;
}

/** A fresh {@link EvaluationSlot}. */
export function evaluationSlot(): EvaluationSlot {
  return { allowed: false, remaining: 0, overage: 0, resetAt: 0, retryAfterMs: 0, ttlMs: 0, next: [], nextLength: 0 };
}

/** The slot's content as an owned {@link Evaluation} (the allocating API, built on the in-place one). */
export function evaluationOf(out: EvaluationSlot): Evaluation {
  return {
    allowed: out.allowed,
    remaining: out.remaining,
    overage: out.overage,
    resetAt: out.resetAt,
    retryAfterMs: out.retryAfterMs,
    next: copyOfNext(out),
    ttlMs: out.ttlMs,
  };
}

/** The slot's next state as an array of its own: literals for the short states (`slice` costs more). */
function copyOfNext(out: EvaluationSlot): LimitState | undefined {
  const n = out.nextLength;
  const next = out.next;
  if (n === 0) return undefined;
  if (n === 1) return [next[0] as number];
  if (n === 2) return [next[0] as number, next[1] as number];
  if (n === 3) return [next[0] as number, next[1] as number, next[2] as number];
  return next.slice(0, n);
}

/** `evaluateInto` as {@link Algorithm.refund}'s signature: the in-place form of a refund. */
export type RefundInto = (
  state: LimitState | undefined,
  now: number,
  amount: number,
  chargedAt: number,
  out: EvaluationSlot,
) => void;

/** `evaluateInto`'s signature. */
export type EvaluateInto = (state: LimitState | undefined, now: number, cost: number, out: EvaluationSlot) => void;

/**
 * `evaluate` and `refund` from their in-place forms, so both APIs share one arithmetic: each writes
 * into a scratch slot of its own (the arithmetic is synchronous and calls nothing back, so one per
 * algorithm is never in use twice) and hands back an owned copy.
 */
export function allocating(
  evaluateInto: EvaluateInto,
  refundInto: RefundInto,
): Pick<Algorithm, 'evaluate' | 'refund' | 'evaluateInto'> {
  const scratch = evaluationSlot();
  return {
    evaluateInto,
    evaluate: function evaluate(state, now, cost) {
      evaluateInto(state, now, cost, scratch);
      return evaluationOf(scratch);
    },
    refund: function refund(state, now, amount, chargedAt) {
      refundInto(state, now, amount, chargedAt, scratch);
      return evaluationOf(scratch);
    },
  };
}

/**
 * A rate-limit algorithm: pure arithmetic over a {@link LimitState}. Build one with
 * `tokenBucket`, `gcra`, `fixedWindow`, `slidingWindow` or `slidingLog`.
 */
export interface Algorithm {
  /** Which algorithm. */
  readonly kind: AlgorithmKind;
  /** The headline limit (capacity or requests per window), as advertised in `RateLimit-Policy`. */
  readonly limit: number;
  /** Extra units allowed beyond `limit` (soft limit); reported, not hidden. */
  readonly overage: number;
  /** The policy window in ms (for a bucket: the time to refill from empty). */
  readonly windowMs: number;
  /**
   * Decides whether `cost` units fit at time `now`, given the stored state (`undefined` when none).
   * Never mutates `state`.
   */
  evaluate(state: LimitState | undefined, now: number, cost: number): Evaluation;
  /**
   * The same decision as {@link Algorithm.evaluate}, written into `out` instead of a new object
   * (the memory store's hot path). Never mutates `state`. Optional: a store falls back to
   * `evaluate` for an algorithm without it.
   */
  evaluateInto?(state: LimitState | undefined, now: number, cost: number, out: EvaluationSlot): void;
  /**
   * Gives back `amount` units charged at `chargedAt` (a refund), never more than was charged and
   * never beyond the limit; units charged in a window that has since ended are not refunded.
   */
  refund(state: LimitState | undefined, now: number, amount: number, chargedAt: number): Evaluation;
  /** Numbers the Redis script needs to run the same algorithm at time `now`. */
  scriptParams(now: number): readonly number[];
}

/*
 * A hard budget split into what is reported as remaining and as overage in use, where
 * `available` = hard limit − used (below 0 only transiently; clamped). Two functions rather than
 * one returning a pair: this runs on every decision, and a pair is an allocation.
 */

/** Units reported as remaining out of `available`, keeping the `overage` allowance apart. */
export function remainingOf(available: number, overage: number): number {
  return Math.max(0, Math.floor(Math.max(0, available) - overage));
}

/** Units of the `overage` allowance in use when `available` units are left. */
export function overageInUse(available: number, overage: number): number {
  return Math.max(0, overage - Math.max(0, available));
}

/**
 * Writes the answer every algorithm gives into `out`: admitted or not, what is left of the limit
 * (`available` units before the overage), the overage in use, when it is full again, how long to
 * wait, and how long its state must live. The next state (`next`, `nextLength`) is the caller's.
 *
 * @example
 * ```ts
 * fillSlot(out, true, 7, 0, now + 1_000, 0, 1_000); // out.remaining === 7
 * ```
 */
export function fillSlot(
  out: EvaluationSlot,
  allowed: boolean,
  available: number,
  overage: number,
  resetAt: number,
  retryAfterMs: number,
  ttlMs: number,
): void {
  out.allowed = allowed;
  out.remaining = remainingOf(available, overage);
  out.overage = overageInUse(available, overage);
  out.resetAt = resetAt;
  out.retryAfterMs = retryAfterMs;
  out.ttlMs = ttlMs;
}
