import { InvalidOptionError, nonEmptyString, ratio } from '@portcullis/core';
import type { CheckOptions, CheckOutcome } from '../check.js';
import { builtIn, type BuiltInCheckOptions } from './options.js';

/**
 * What the breaker check reads of each breaker: `@portcullis/circuit-breaker`'s `BreakerSnapshot` fits.
 *
 * @example
 * ```ts
 * import type { BreakerView } from '@portcullis/health';
 *
 * const view: BreakerView = { name: 'payments', state: 'open' };
 * ```
 */
export interface BreakerView {
  readonly name: string;
  /** `closed`, `open`, `half-open` or `isolated`. */
  readonly state: string;
}

/**
 * What the breaker check reads of a registry: `@portcullis/circuit-breaker`'s `BreakerRegistry`
 * fits (this package does not depend on it; see the guide on why).
 *
 * @example
 * ```ts
 * import type { BreakerRegistryView } from '@portcullis/health';
 *
 * // Any source of breaker states will do, e.g. breakers of another library:
 * const view: BreakerRegistryView = { snapshot: () => [{ name: 'orders', state: 'closed' }] };
 * ```
 */
export interface BreakerRegistryView {
  /** Every breaker's state now (the registry's `snapshot()`). */
  snapshot(): readonly BreakerView[];
}

/**
 * Options of {@link breakerCheck}.
 *
 * @example
 * ```ts
 * import { createBreakerRegistry } from '@portcullis/circuit-breaker';
 * import type { BreakerCheckOptions } from '@portcullis/health';
 *
 * const options: BreakerCheckOptions = { registry: createBreakerRegistry(), failOn: ['payments'], failRatio: 0.5 };
 * ```
 */
export interface BreakerCheckOptions extends BuiltInCheckOptions {
  /** The registry to read (`snapshot()`, no call goes through a breaker). */
  registry: BreakerRegistryView;
  /** Services whose breaker being open (or isolated) fails the check. Default none. */
  failOn?: readonly string[] | undefined;
  /** Fail when at least this share of the breakers is open (a ratio in (0, 1]). Default: never. */
  failRatio?: number | undefined;
}

/**
 * Checks a circuit-breaker registry: every breaker closed → `pass`; any breaker open, isolated or
 * half-open → `warn` (calls to that upstream are being refused or probed: degraded); `fail` when a
 * breaker named in `failOn` is open or isolated, or when at least `failRatio` of them are. Observed
 * value: how many are open or isolated. Defaults: name `breakers`, component type `component`.
 *
 * @param options - See {@link BreakerCheckOptions} and {@link BuiltInCheckOptions}.
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import { createBreakerRegistry } from '@portcullis/circuit-breaker';
 * import { breakerCheck, createHealth } from '@portcullis/health';
 *
 * const breakers = createBreakerRegistry();
 * const health = createHealth({ checks: [breakerCheck({ registry: breakers, failOn: ['payments'] })] });
 * ```
 */
export function breakerCheck(options: BreakerCheckOptions): CheckOptions {
  const { registry, failOn = [], failRatio, ...rest } = options;
  if (typeof (registry as Partial<BreakerRegistryView> | null)?.snapshot !== 'function') {
    throw new InvalidOptionError('registry', registry, 'a breaker registry (with snapshot())');
  }
  if (!Array.isArray(failOn)) throw new InvalidOptionError('failOn', failOn, 'an array of service names');
  const critical = new Set(failOn.map((name, i) => nonEmptyString(name, `failOn[${String(i)}]`)));
  const share = failRatio === undefined ? undefined : ratio(failRatio, 'failRatio');
  if (share === 0) throw new InvalidOptionError('failRatio', failRatio, 'a ratio in (0, 1]');

  return builtIn({ name: 'breakers', componentType: 'component' }, rest, function breakerRegistryCheck(): CheckOutcome {
    const breakers = registry.snapshot();
    const open = breakers.filter((b) => b.state === 'open' || b.state === 'isolated').map((b) => b.name);
    const probing = breakers.filter((b) => b.state === 'half-open').map((b) => b.name);
    const notes = [
      ...(open.length === 0 ? [] : [`open: ${open.join(', ')}`]),
      ...(probing.length === 0 ? [] : [`half-open: ${probing.join(', ')}`]),
    ];
    const observed = { observedValue: open.length, observedUnit: 'open breakers' };
    if (notes.length === 0) return { status: 'pass', ...observed };
    const failing =
      open.some((name) => critical.has(name)) ||
      (share !== undefined && breakers.length > 0 && open.length / breakers.length >= share);
    return { status: failing ? 'fail' : 'warn', ...observed, output: notes.join('; ') };
  });
}
