import type { GatewayRequest } from '@portcullis/core';
import {
  finiteNumber,
  InvalidOptionError,
  isFunctionOption,
  lowerCaseHeader,
  nonEmptyString,
  reportUnhandled,
} from '@portcullis/core';
import { chooseCandidate, Race, type WeightedCandidate } from './choose.js';
import { firstFlagOn, type AsyncFlagSource, type FlagErrorEvent, type FlagSource } from './flags.js';
import { seedOf } from './hash.js';
import { readCookie, stickyKey, type KeyFunction } from './key.js';

/** How long `assignAsync` waits for an asynchronous flag source by default, in ms. */
export const DEFAULT_FLAG_TIMEOUT_MS = 50;

/** The longest `flagTimeoutMs`: what `setTimeout` honours (2^31 − 1 ms). */
const MAX_FLAG_TIMEOUT_MS = 2 ** 31 - 1;

/** One variant of a {@link Split}. */
export interface VariantOptions {
  /** Its name (`stable`, `canary`, `A`...), unique in the split. */
  name: string;
  /** Its initial weight, a finite number >= 0; shares are weight / Σ weights. Default is 0. */
  weight?: number | undefined;
  /**
   * A segment: only requests it accepts can be assigned this variant by weight (e.g.
   * `(req) => req.context.tier === 'free'`). Default: every request.
   */
  segment?: ((req: GatewayRequest) => boolean) | undefined;
  /** A feature flag: when the flag source says it is on for a request, the request gets this variant. */
  flag?: string | undefined;
}

/** Override by header or cookie: `always` (the canary), `never` (the baseline) or a variant's name. */
export interface OverrideOptions {
  /** The header read. Default is `x-canary`; `false` to not read a header. */
  header?: string | false | undefined;
  /** The cookie read. Default: none. */
  cookie?: string | undefined;
  /** The variant `always` means. Default: the first variant that is not the baseline. */
  always?: string | undefined;
  /** Who may override (e.g. only staff). Default: everyone. */
  allow?: ((req: GatewayRequest) => boolean) | undefined;
}

/** Options of {@link createSplit}. */
export interface SplitOptions {
  /** The split's name; it seeds the hash, so two splits assign the same key independently. */
  name: string;
  /** The variants, at least one; the first is the baseline unless `baseline` says otherwise. */
  variants: readonly VariantOptions[];
  /** The baseline: where requests go with no key, no eligible variant or `x-canary: never`. Default: the first variant. */
  baseline?: string | undefined;
  /** The sticky key. Default is `stickyKey()`: the client IP. */
  key?: KeyFunction | undefined;
  /** Overrides; `false` to turn them off. Default is `{ header: 'x-canary' }`. */
  override?: OverrideOptions | false | undefined;
  /**
   * The flag source asked for variants with a `flag`; required when one has. A plain function
   * `(flag, req) => boolean`, asked by `assign`, or an {@link AsyncFlagSource} such as
   * `openFeatureFlags(client)`, asked by `assignAsync` (which the router guard awaits).
   */
  flags?: FlagSource | AsyncFlagSource | undefined;
  /**
   * How long `assignAsync` waits for an asynchronous flag source, in ms; a flag with no answer by
   * then counts as off (and is reported to `onFlagError` as a `FlagTimeoutError`). Finite, > 0,
   * at most 2^31 − 1. Default is 50.
   */
  flagTimeoutMs?: number | undefined;
  /**
   * Told when the flag source fails for a request (throws, rejects, answers with an error or runs
   * out of time); the flag then counts as off. Default: `reportUnhandled` (a `PortcullisWarning`).
   */
  onFlagError?: ((event: FlagErrorEvent) => void) | undefined;
}

/** Why a request got its variant. */
export type AssignmentReason = 'override' | 'flag' | 'weight' | 'baseline';

/** The variant of one request and why. */
export interface Assignment {
  /** The variant's name. */
  readonly variant: string;
  /** `override` (header or cookie), `flag`, `weight` (the sticky hash) or `baseline` (no key or no eligible variant). */
  readonly reason: AssignmentReason;
}

/** A traffic split: assigns requests to variants, with weights that can change at runtime. */
export interface Split {
  /** The split's name. */
  readonly name: string;
  /** The baseline variant's name. */
  readonly baseline: string;
  /** The variants' names, in declaration order. */
  readonly variants: readonly string[];
  /**
   * The variant `req` goes to. Pure given the current weights: no I/O, no state change. With an
   * asynchronous flag source ({@link Split.asyncFlags}) flags are not asked here and count as off: use
   * {@link Split.assignAsync}.
   */
  assign(req: GatewayRequest): Assignment;
  /** True when the flag source is asynchronous: {@link Split.assignAsync} is then the call that asks it. */
  readonly asyncFlags: boolean;
  /**
   * The variant `req` goes to, asking an asynchronous flag source first when the request is not
   * overridden: each flag is asked at once, and one with no answer within `flagTimeoutMs` counts as
   * off. Never rejects. Without an asynchronous source it resolves to what {@link Split.assign} returns.
   */
  assignAsync(req: GatewayRequest): Promise<Assignment>;
  /** The current weights by variant. */
  weights(): Readonly<Record<string, number>>;
  /**
   * Replaces some or all weights at once; a request sees either the old weights or the new, never
   * a mix. Throws an `InvalidOptionError` for an unknown variant or a bad weight (nothing changes).
   */
  setWeights(weights: Readonly<Record<string, number>>): void;
}

interface Variant extends WeightedCandidate {
  readonly segment: ((req: GatewayRequest) => boolean) | undefined;
  /** The answer for this variant by the weights, built once: `assign` allocates nothing. */
  readonly byWeight: Assignment;
}

/**
 * Creates a traffic split. A request's variant is decided in this order: an allowed override
 * (`x-canary: always|never|<variant>`), a variant whose feature flag is on for the request, the
 * sticky weighted choice among the variants whose segment accepts it, and the baseline when none.
 *
 * @example
 * ```ts
 * import { createSplit, stickyKey } from '@portcullis/router';
 *
 * const split = createSplit({
 *   name: 'checkout',
 *   variants: [
 *     { name: 'stable', weight: 95 },
 *     { name: 'canary', weight: 5 },
 *   ],
 *   key: stickyKey({ user: (ctx) => ctx.userId, cookie: 'vid' }),
 * });
 * split.assign(req); // { variant: 'stable', reason: 'weight' }
 * split.setWeights({ stable: 90, canary: 10 }); // ramp up: nobody leaves the canary
 * ```
 */
export function createSplit(options: SplitOptions): Split {
  const name = nonEmptyString(options.name, 'name', 256);
  const specs = options.variants;
  if (!isNonEmptyArray(specs)) {
    throw new InvalidOptionError('variants', specs, 'a non-empty array of variants');
  }
  const names: string[] = [];
  let variants: readonly Variant[] = specs.map((v, i) => {
    const variantName = nonEmptyString(v.name, `variants.${String(i)}.name`, 256);
    if (names.includes(variantName)) {
      throw new InvalidOptionError(`variants.${String(i)}.name`, variantName, 'a name no other variant has');
    }
    names.push(variantName);
    return {
      name: variantName,
      weight: weightOf(v.weight ?? 0, `variants.${String(i)}.weight`),
      seed: seedOf(`${name}\u0000${variantName}`),
      segment: v.segment === undefined ? undefined : isFunctionOption(v.segment, `variants.${String(i)}.segment`),
      byWeight: Object.freeze({ variant: variantName, reason: 'weight' as const }),
    };
  });
  const baseline = knownVariant(options.baseline ?? names[0], names, 'baseline');
  const key = options.key === undefined ? stickyKey() : isFunctionOption(options.key, 'key');

  const flagged = specs.flatMap((v, i) =>
    v.flag === undefined ? [] : [{ variant: v.name, flag: nonEmptyString(v.flag, `variants.${String(i)}.flag`, 256) }],
  );
  const flagNames = flagged.map((f) => f.flag);
  const { syncFlags, asyncFlags } = flagSourceOf(options.flags);
  if (flagged.length > 0 && syncFlags === undefined && asyncFlags === undefined) {
    throw new InvalidOptionError('flags', undefined, 'a flag source, since a variant has a flag');
  }
  const flagTimeoutMs =
    options.flagTimeoutMs === undefined
      ? DEFAULT_FLAG_TIMEOUT_MS
      : finiteNumber(options.flagTimeoutMs, 'flagTimeoutMs', { min: 0, minExclusive: true, max: MAX_FLAG_TIMEOUT_MS });
  const onFlagError =
    options.onFlagError === undefined ? undefined : isFunctionOption(options.onFlagError, 'onFlagError');
  const reportFlagError = (flag: string, error: unknown): void => {
    if (onFlagError === undefined) {
      reportUnhandled(error, `split flag source (${flag})`);
      return;
    }
    try {
      onFlagError({ split: name, flag, error });
    } catch (thrown) {
      reportUnhandled(thrown, 'split onFlagError');
    }
  };

  const override = overrideOf(options.override, names, baseline);
  const hasSegments = variants.some((v) => v.segment !== undefined);

  // Every (variant, reason) answer built once: `assign` allocates nothing.
  const assignments = new Map<string, Readonly<Record<AssignmentReason, Assignment>>>(
    variants.map(({ name: variant, byWeight: weight }) => [
      variant,
      Object.freeze({
        override: Object.freeze({ variant, reason: 'override' as const }),
        flag: Object.freeze({ variant, reason: 'flag' as const }),
        weight,
        baseline: Object.freeze({ variant, reason: 'baseline' as const }),
      }),
    ]),
  );
  const assignment = (variant: string, reason: AssignmentReason): Assignment =>
    (assignments.get(variant) as Readonly<Record<AssignmentReason, Assignment>>)[reason];

  // The variants prepared for choosing under the current weights (without segments, every request
  // chooses among all of them); setWeights replaces it with the variants.
  let race = new Race(variants);
  const baselineAnswer = assignment(baseline, 'baseline');

  /** The sticky weighted choice: the last step, once no override or flag decided. */
  const byWeight = function byWeight(req: GatewayRequest, k: string | undefined): Assignment {
    if (k === undefined) return baselineAnswer;
    const chosen = hasSegments
      ? chooseCandidate(
          variants.filter((v) => v.segment === undefined || guarded(v.segment, req, false, 'split segment')),
          k,
        )
      : race.choose(k);
    return chosen === undefined ? baselineAnswer : chosen.byWeight;
  };

  const assign = function assign(req: GatewayRequest): Assignment {
    if (override !== undefined) {
      const chosen = override(req);
      if (chosen !== undefined) return assignment(chosen, 'override');
    }
    if (syncFlags !== undefined) {
      for (const { variant, flag } of flagged) {
        if (isOn(syncFlags, flag, req, reportFlagError)) return assignment(variant, 'flag');
      }
    }
    // The weighted choice inlined (not `byWeight` behind `guarded`): every request takes this
    // path, and V8 did not inline those two calls (178 instructions a decision under callgrind).
    let k: string | undefined;
    try {
      k = key(req);
    } catch (error) {
      reportUnhandled(error, 'split key');
      return baselineAnswer;
    }
    if (k === undefined) return baselineAnswer;
    if (hasSegments) return byWeight(req, k);
    const chosen = race.choose(k);
    return chosen === undefined ? baselineAnswer : chosen.byWeight;
  };

  return {
    name,
    baseline,
    variants: Object.freeze([...names]),
    assign,
    asyncFlags: asyncFlags !== undefined && flagged.length > 0,
    assignAsync: function assignAsync(req: GatewayRequest): Promise<Assignment> {
      if (asyncFlags === undefined || flagged.length === 0) return Promise.resolve(assign(req));
      if (override !== undefined) {
        const chosen = override(req);
        if (chosen !== undefined) return Promise.resolve(assignment(chosen, 'override'));
      }
      // Read once: the flag source gets it as the targeting key, and the weights use it after.
      const k = guarded(key, req, undefined, 'split key');
      return firstFlagOn(asyncFlags, flagNames, req, k, flagTimeoutMs, reportFlagError).then((on) =>
        on === undefined ? byWeight(req, k) : assignment((flagged[on] as { variant: string }).variant, 'flag'),
      );
    },
    weights: function weights(): Readonly<Record<string, number>> {
      return Object.freeze(Object.fromEntries(variants.map((v) => [v.name, v.weight])));
    },
    setWeights: function setWeights(next: Readonly<Record<string, number>>): void {
      for (const [variantName, weight] of Object.entries(next)) {
        knownVariant(variantName, names, `weights.${variantName}`);
        weightOf(weight, `weights.${variantName}`);
      }
      variants = variants.map((v) => {
        const weight = next[v.name];
        return weight === undefined ? v : { ...v, weight };
      });
      race = new Race(variants);
    },
  };
}

function isNonEmptyArray(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

function weightOf(value: unknown, option: string): number {
  return finiteNumber(value, option, { min: 0 });
}

function knownVariant(value: unknown, names: readonly string[], option: string): string {
  if (typeof value !== 'string' || !names.includes(value)) {
    throw new InvalidOptionError(option, value, `one of the variants (${names.join(', ')})`);
  }
  return value;
}

/**
 * Calls user code that decides a request's variant. If it throws, `fallback` (no key, segment not
 * accepting, override not allowed) and the error is reported: a broken callback must degrade the
 * split towards the baseline, not turn every request of the route into a 500.
 */
function guarded<T>(fn: (req: GatewayRequest) => T, req: GatewayRequest, fallback: T, where: string): T {
  try {
    return fn(req);
  } catch (error) {
    reportUnhandled(error, where);
    return fallback;
  }
}

function isOn(
  flags: FlagSource,
  flag: string,
  req: GatewayRequest,
  report: (flag: string, error: unknown) => void,
): boolean {
  try {
    return flags(flag, req);
  } catch (error) {
    // A broken flag provider must not break routing: the flag counts as off.
    report(flag, error);
    return false;
  }
}

/** Tells a plain function (asked synchronously) from an {@link AsyncFlagSource}. */
function flagSourceOf(value: FlagSource | AsyncFlagSource | undefined): {
  syncFlags: FlagSource | undefined;
  asyncFlags: AsyncFlagSource | undefined;
} {
  if (value === undefined) return { syncFlags: undefined, asyncFlags: undefined };
  if (typeof value === 'function') return { syncFlags: value, asyncFlags: undefined };
  if (typeof value === 'object' && (value as unknown) !== null && typeof value.isOn === 'function') {
    return { syncFlags: undefined, asyncFlags: value };
  }
  throw new InvalidOptionError('flags', value, 'a function (flag, req) => boolean or an async flag source ({ isOn })');
}

function overrideOf(
  options: OverrideOptions | false | undefined,
  names: readonly string[],
  baseline: string,
): ((req: GatewayRequest) => string | undefined) | undefined {
  if (options === false) return undefined;
  const o = options ?? {};
  const header =
    o.header === false ? undefined : nonEmptyString(o.header ?? 'x-canary', 'override.header', 256).toLowerCase();
  const cookie = o.cookie === undefined ? undefined : nonEmptyString(o.cookie, 'override.cookie', 256);
  const always =
    o.always === undefined ? names.find((n) => n !== baseline) : knownVariant(o.always, names, 'override.always');
  const allow = o.allow === undefined ? undefined : isFunctionOption(o.allow, 'override.allow');
  if (header === undefined && cookie === undefined) return undefined;
  const resolve = (value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    const v = value.trim();
    if (v === 'always') return always;
    if (v === 'never') return baseline;
    return names.includes(v) ? v : undefined;
  };
  return function override(req: GatewayRequest): string | undefined {
    let chosen: string | undefined;
    if (header !== undefined) {
      const value = lowerCaseHeader(req, header);
      if (value !== undefined) chosen = resolve(value);
    }
    if (chosen === undefined && cookie !== undefined) chosen = resolve(readCookie(req, cookie));
    if (chosen === undefined) return undefined;
    return allow === undefined || guarded(allow, req, false, 'split override allow') ? chosen : undefined;
  };
}
