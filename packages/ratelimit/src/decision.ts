/** Usage of one dimension (one limit) after a decision. */
export interface DimensionUsage {
  /** The dimension's name in the policy (`'perSecond'`, `'daily'`, …). */
  readonly name: string;
  /** `'key'` for the caller's own limits, `'pool'` for the shared (team) limits. */
  readonly scope: 'key' | 'pool';
  /** Whether this dimension alone would admit the request. */
  readonly allowed: boolean;
  /** The dimension's limit (capacity or units per window). */
  readonly limit: number;
  /** The policy window in ms. */
  readonly windowMs: number;
  /** Units left. */
  readonly remaining: number;
  /** Units of the overage allowance in use (soft limit exceeded when > 0). */
  readonly overage: number;
  /** When the dimension is fully available again (epoch ms). */
  readonly resetAt: number;
  /** 0 when allowed; otherwise ms until this dimension would admit the same cost (`Infinity`: never). */
  readonly retryAfterMs: number;
}

/** Where a decision came from. */
export type DecisionSource = 'store' | 'deny-cache' | 'fallback' | 'fail-open' | 'fail-closed';

/** The answer to one rate-limit check. */
export interface Decision {
  /** Whether the request may proceed (and was charged). */
  readonly allowed: boolean;
  /** The cost that was asked for. */
  readonly cost: number;
  /**
   * The dimension `remaining`, `limit`, `windowMs` and `resetAt` describe (`pool.` prefix for pool
   * limits): `limitedBy` when denied, else the one with the fewest units left (on a tie, the later
   * reset).
   */
  readonly reportedBy: string;
  /** Units left in the most constrained dimension. */
  readonly remaining: number;
  /** Limit of the most constrained dimension (the one `remaining` refers to). */
  readonly limit: number;
  /** Window of the most constrained dimension, in ms. */
  readonly windowMs: number;
  /** When the most constrained dimension is fully available again (epoch ms). */
  readonly resetAt: number;
  /** 0 when allowed; otherwise ms until a retry can succeed (`Infinity`: the cost never fits). */
  readonly retryAfterMs: number;
  /** The dimension that denied (the one with the longest wait), if denied. `pool.` prefix for pool limits. */
  readonly limitedBy: string | undefined;
  /** True when any dimension is into its overage allowance (soft limit passed). */
  readonly overLimit: boolean;
  /** Every dimension's usage, the caller's first, then the pool's. */
  readonly dimensions: readonly DimensionUsage[];
  /** When the decision was made (epoch ms): the store's clock, or the limiter's for a deny-cache answer. */
  readonly decidedAt: number;
  /** Where the decision came from; anything but `'store'` means the store was bypassed. */
  readonly source: DecisionSource;
}
