/** Integers up to this are exact in a double. */
const EXACT = 2 ** 53;

/**
 * A ratio option (a rate threshold, a retry budget's ratio) read as the decimal it was written
 * as, and compared with counts exactly. In floating point `0.07 × 100` is `7.000000000000001`, so
 * `bad >= threshold × calls` leaves 7 failures in 100 calls short of a 0.07 threshold; here 0.07
 * is 7/100 and `compare(7, 100)` is 0.
 *
 * The decimal is the shortest that reads back as the same number (`String(value)`: what was
 * written for a literal like `0.07`; `0.3333333333333333` for `1 / 3`). Counts are compared as
 * integers, `count × denominator` against `numerator × of`: in doubles while both products stay
 * below 2^53 (every realistic threshold and window), in `bigint` beyond.
 */
export class DecimalRatio {
  /** The value as given. */
  readonly value: number;
  readonly #numerator: number;
  readonly #denominator: number;
  readonly #bigNumerator: bigint;
  readonly #bigDenominator: bigint;
  /** Counts of at most this magnitude keep both products exact in doubles. */
  readonly #safeCount: number;

  /** @param value - A finite number >= 0 (validated by the caller, as an option). */
  constructor(value: number) {
    const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
    if (match === null) throw new RangeError(`Not a finite number >= 0: ${String(value)}`);
    const [, whole = '', fraction = '', exponent = '0'] = match;
    const scale = Number(exponent) - fraction.length;
    let numerator = BigInt(whole + fraction);
    let denominator = 1n;
    if (scale >= 0) numerator *= 10n ** BigInt(scale);
    else denominator = 10n ** BigInt(-scale);
    const divisor = gcd(numerator, denominator);
    numerator /= divisor;
    denominator /= divisor;
    this.value = value;
    this.#bigNumerator = numerator;
    this.#bigDenominator = denominator;
    this.#numerator = Number(numerator);
    this.#denominator = Number(denominator);
    const largest = numerator > denominator ? numerator : denominator;
    this.#safeCount = largest > BigInt(EXACT) ? 0 : Math.floor(EXACT / Number(largest));
  }

  /**
   * The sign of `count − value × of`, computed exactly: negative, 0 or positive. `count` and `of`
   * are whole numbers (`of` >= 0). `compare(bad, calls) >= 0` is "bad / calls reached the ratio".
   */
  compare(count: number, of: number): number {
    const safe = this.#safeCount;
    if (of <= safe && count <= safe && count >= -safe) return count * this.#denominator - this.#numerator * of;
    const difference = BigInt(count) * this.#bigDenominator - this.#bigNumerator * BigInt(of);
    return difference > 0n ? 1 : difference < 0n ? -1 : 0;
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}
