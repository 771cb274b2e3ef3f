import type { GatewayRequest } from '@portcullis/core';
import { InvalidOptionError, isFunctionOption } from '@portcullis/core';
import { FlagEvaluationError } from './errors.js';
import type { AsyncFlagSource } from './flags.js';

// The OpenFeature shapes below are structural copies of what `@openfeature/server-sdk` declares,
// not imports: the SDK is an optional peer, and this package's types must compile without it.

/**
 * A value in an OpenFeature evaluation context (the SDK's `EvaluationContextValue`).
 *
 * @example
 * ```ts
 * import type { FlagContextValue } from '@portcullis/router';
 *
 * const tier: FlagContextValue = 'pro';
 * ```
 */
export type FlagContextValue =
  null | boolean | string | number | Date | { [key: string]: FlagContextValue } | FlagContextValue[];

/**
 * An OpenFeature evaluation context (the SDK's `EvaluationContext`): the targeting key and any
 * attributes the provider's rules read.
 *
 * @example
 * ```ts
 * import type { FlagEvaluationContext } from '@portcullis/router';
 *
 * const context: FlagEvaluationContext = { targetingKey: 'user-42', tier: 'pro', country: 'FR' };
 * ```
 */
export type FlagEvaluationContext = {
  /** Who the evaluation is for: the split's sticky key unless the context function sets one. */
  targetingKey?: string;
} & Record<string, FlagContextValue>;

/**
 * What an OpenFeature boolean evaluation resolves to (the part of the SDK's `EvaluationDetails`
 * and `ResolutionDetails` read here).
 *
 * @example
 * ```ts
 * import type { OpenFeatureResolution } from '@portcullis/router';
 *
 * const notFound: OpenFeatureResolution = { value: false, errorCode: 'FLAG_NOT_FOUND' };
 * ```
 */
export interface OpenFeatureResolution {
  /** The flag's value. */
  readonly value: boolean;
  /** Set when the evaluation failed (`FLAG_NOT_FOUND`, `PROVIDER_NOT_READY`, `GENERAL`…). */
  readonly errorCode?: string | undefined;
  /** The provider's explanation of the error. */
  readonly errorMessage?: string | undefined;
}

/**
 * An OpenFeature server client (`OpenFeature.getClient()` of `@openfeature/server-sdk`), as far
 * as {@link openFeatureFlags} uses it.
 *
 * @example
 * ```ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import type { OpenFeatureClientLike } from '@portcullis/router';
 *
 * const client: OpenFeatureClientLike = OpenFeature.getClient('gateway');
 * ```
 */
export interface OpenFeatureClientLike {
  /** Evaluates a boolean flag; the SDK resolves errors as `errorCode` rather than rejecting. */
  getBooleanDetails(
    flagKey: string,
    defaultValue: boolean,
    context?: FlagEvaluationContext,
  ): Promise<OpenFeatureResolution>;
}

/**
 * The logger an OpenFeature provider is handed (the SDK's `Logger`).
 *
 * @example
 * ```ts
 * import type { OpenFeatureLogger } from '@portcullis/router';
 *
 * const logger: OpenFeatureLogger = { error: console.error, warn: console.warn, info: () => {}, debug: () => {} };
 * ```
 */
export interface OpenFeatureLogger {
  /** Logs at error level. */
  error(...args: unknown[]): void;
  /** Logs at warning level. */
  warn(...args: unknown[]): void;
  /** Logs at info level. */
  info(...args: unknown[]): void;
  /** Logs at debug level. */
  debug(...args: unknown[]): void;
}

/**
 * An OpenFeature server provider (the SDK's `Provider`), as far as {@link openFeatureFlags} uses it.
 *
 * @example
 * ```ts
 * import { TypedInMemoryProvider } from '@openfeature/server-sdk';
 * import type { OpenFeatureProviderLike } from '@portcullis/router';
 *
 * const provider: OpenFeatureProviderLike = new TypedInMemoryProvider({});
 * ```
 */
export interface OpenFeatureProviderLike {
  /** Resolves a boolean flag. */
  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: FlagEvaluationContext,
    logger: OpenFeatureLogger,
  ): Promise<OpenFeatureResolution>;
}

/**
 * Options of {@link openFeatureFlags}.
 *
 * @example
 * ```ts
 * import type { OpenFeatureFlagsOptions } from '@portcullis/router';
 *
 * const options: OpenFeatureFlagsOptions = {
 *   context: (req) => ({ tier: typeof req.context.tier === 'string' ? req.context.tier : null }),
 * };
 * ```
 */
export interface OpenFeatureFlagsOptions {
  /**
   * Builds the evaluation context of a request from it (`req.context` holds what earlier guards
   * set: the JWT's claims, a tier…) and its sticky key. When the result has no `targetingKey`, the
   * sticky key is added as one. Default: `{ targetingKey: key }`.
   */
  context?: ((req: GatewayRequest, key: string | undefined) => FlagEvaluationContext) | undefined;
  /**
   * The logger handed to a provider given directly (a client uses its own). Default: one that
   * drops everything (libraries do not log).
   */
  logger?: OpenFeatureLogger | undefined;
}

const SILENT: OpenFeatureLogger = Object.freeze({
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
});

/**
 * An asynchronous flag source over OpenFeature (`@openfeature/server-sdk`, an optional peer
 * dependency): give it to a split as `flags`. A flag is on when the boolean evaluation (default
 * `false`) resolves to `true` without an error; an evaluation error (`errorCode`, such as
 * `FLAG_NOT_FOUND`) or a provider that throws makes it off and is reported to the split's
 * `onFlagError` as a {@link FlagEvaluationError}; one that hangs is cut at the split's
 * `flagTimeoutMs` (OpenFeature has no evaluation timeout of its own).
 *
 * Give it a **client** (`OpenFeature.getClient()`): the SDK then runs its hooks, checks the
 * provider is ready and merges the global, transaction and client contexts. A **provider** given
 * directly is asked as is: none of that happens, so initialise it first.
 *
 * @param source - An OpenFeature client (preferred) or provider.
 * @param options - See {@link OpenFeatureFlagsOptions}.
 * @throws InvalidOptionError when `source` is neither, or an option is invalid.
 *
 * @example
 * ```ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { createSplit, openFeatureFlags, stickyKey } from '@portcullis/router';
 *
 * await OpenFeature.setProviderAndWait(myProvider);
 * const split = createSplit({
 *   name: 'checkout',
 *   variants: [{ name: 'stable', weight: 100 }, { name: 'beta', flag: 'new-checkout' }],
 *   key: stickyKey({ user: (ctx) => ctx.jwt?.payload.sub }),
 *   flags: openFeatureFlags(OpenFeature.getClient(), {
 *     context: (req) => ({ tier: String(req.context.tier ?? 'free') }), // targetingKey: the sticky key
 *   }),
 * });
 * await split.assignAsync(req); // { variant: 'beta', reason: 'flag' } when new-checkout is on
 * ```
 */
export function openFeatureFlags(
  source: OpenFeatureClientLike | OpenFeatureProviderLike,
  options: OpenFeatureFlagsOptions = {},
): AsyncFlagSource {
  const contextOf = options.context === undefined ? undefined : isFunctionOption(options.context, 'context');
  const logger = options.logger === undefined ? SILENT : loggerOf(options.logger);
  const evaluate = evaluatorOf(source, logger);

  const contextFor = (req: GatewayRequest, key: string | undefined): FlagEvaluationContext => {
    if (contextOf === undefined) return key === undefined ? {} : { targetingKey: key };
    const context = contextOf(req, key);
    return context.targetingKey === undefined && key !== undefined ? { ...context, targetingKey: key } : context;
  };

  return {
    isOn: function isOn(flag: string, req: GatewayRequest, key: string | undefined): Promise<boolean> {
      // Promise.resolve: a provider written without async may answer synchronously.
      return Promise.resolve(evaluate(flag, contextFor(req, key))).then((resolution) => {
        if (resolution.errorCode !== undefined) {
          throw new FlagEvaluationError(flag, resolution.errorCode, resolution.errorMessage);
        }
        // Typed boolean, but a provider is user code: anything but true is off.
        return (resolution.value as unknown) === true;
      });
    },
  };
}

function evaluatorOf(
  source: unknown,
  logger: OpenFeatureLogger,
): (flag: string, context: FlagEvaluationContext) => Promise<OpenFeatureResolution> {
  if (typeof source === 'object' && source !== null) {
    const client = source as Partial<OpenFeatureClientLike>;
    if (typeof client.getBooleanDetails === 'function') {
      return (flag, context) => (client as OpenFeatureClientLike).getBooleanDetails(flag, false, context);
    }
    const provider = source as Partial<OpenFeatureProviderLike>;
    if (typeof provider.resolveBooleanEvaluation === 'function') {
      return (flag, context) =>
        (provider as OpenFeatureProviderLike).resolveBooleanEvaluation(flag, false, context, logger);
    }
  }
  throw new InvalidOptionError(
    'source',
    source,
    'an OpenFeature client (OpenFeature.getClient()) or provider from @openfeature/server-sdk',
  );
}

function loggerOf(value: OpenFeatureLogger): OpenFeatureLogger {
  const ok =
    typeof value === 'object' &&
    (value as unknown) !== null &&
    (['error', 'warn', 'info', 'debug'] as const).every((level) => typeof value[level] === 'function');
  if (!ok) throw new InvalidOptionError('logger', value, 'an OpenFeature logger (error, warn, info, debug)');
  return value;
}
