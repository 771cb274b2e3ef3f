import type { GatewayRequest } from '@portcullis/core';
import { finiteNumber, InvalidOptionError, isFunctionOption, nonEmptyString, reportUnhandled } from '@portcullis/core';
import { chooseVariant, type WeightedCandidate } from './choose.js';
import { seedOf } from './hash.js';
import { readCookie, stickyKey, type KeyFunction } from './key.js';

/** Answers whether feature flag `flag` is on for `req` (a plain function; see the guide for OpenFeature). */
export type FlagSource = (flag: string, req: GatewayRequest) => boolean;

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
  /** The flag source asked for variants with a `flag`. Required when one has. */
  flags?: FlagSource | undefined;
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
  /** The variant `req` goes to. Pure given the current weights: no I/O, no state change. */
  assign(req: GatewayRequest): Assignment;
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
    };
  });
  const baseline = knownVariant(options.baseline ?? names[0], names, 'baseline');
  const key = options.key === undefined ? stickyKey() : isFunctionOption(options.key, 'key');

  const flagged = specs.flatMap((v, i) =>
    v.flag === undefined ? [] : [{ variant: v.name, flag: nonEmptyString(v.flag, `variants.${String(i)}.flag`, 256) }],
  );
  const flags = options.flags === undefined ? undefined : isFunctionOption(options.flags, 'flags');
  if (flagged.length > 0 && flags === undefined) {
    throw new InvalidOptionError('flags', undefined, 'a flag source, since a variant has a flag');
  }

  const override = overrideOf(options.override, names, baseline);
  const hasSegments = variants.some((v) => v.segment !== undefined);

  // Every (variant, reason) answer built once: `assign` allocates nothing.
  const assignments = new Map<string, Readonly<Record<AssignmentReason, Assignment>>>(
    names.map((variant) => [
      variant,
      Object.freeze({
        override: Object.freeze({ variant, reason: 'override' as const }),
        flag: Object.freeze({ variant, reason: 'flag' as const }),
        weight: Object.freeze({ variant, reason: 'weight' as const }),
        baseline: Object.freeze({ variant, reason: 'baseline' as const }),
      }),
    ]),
  );
  const assignment = (variant: string, reason: AssignmentReason): Assignment =>
    (assignments.get(variant) as Readonly<Record<AssignmentReason, Assignment>>)[reason];

  return {
    name,
    baseline,
    variants: Object.freeze([...names]),
    assign: function assign(req: GatewayRequest): Assignment {
      if (override !== undefined) {
        const chosen = override(req);
        if (chosen !== undefined) return assignment(chosen, 'override');
      }
      if (flags !== undefined) {
        for (const { variant, flag } of flagged) {
          if (isOn(flags, flag, req)) return assignment(variant, 'flag');
        }
      }
      const k = guarded(key, req, undefined, 'split key');
      if (k === undefined) return assignment(baseline, 'baseline');
      // One read of the variants array: a concurrent setWeights swaps it whole.
      const current = variants;
      const candidates = hasSegments
        ? current.filter((v) => v.segment === undefined || guarded(v.segment, req, false, 'split segment'))
        : current;
      const chosen = chooseVariant(candidates, k);
      return chosen === undefined ? assignment(baseline, 'baseline') : assignment(chosen, 'weight');
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

function isOn(flags: FlagSource, flag: string, req: GatewayRequest): boolean {
  try {
    return flags(flag, req);
  } catch (error) {
    // A broken flag provider must not break routing: the flag counts as off.
    reportUnhandled(error, `split flag source (${flag})`);
    return false;
  }
}

function overrideOf(
  options: OverrideOptions | false | undefined,
  names: readonly string[],
  baseline: string,
): ((req: GatewayRequest) => string | undefined) | undefined {
  if (options === false) return undefined;
  const o = options ?? {};
  const header = o.header === false ? undefined : nonEmptyString(o.header ?? 'x-canary', 'override.header', 256);
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
    const chosen =
      (header === undefined ? undefined : resolve(req.header(header))) ??
      (cookie === undefined ? undefined : resolve(readCookie(req, cookie)));
    if (chosen === undefined) return undefined;
    return allow === undefined || guarded(allow, req, false, 'split override allow') ? chosen : undefined;
  };
}
