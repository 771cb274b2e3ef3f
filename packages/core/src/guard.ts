import type { GatewayRequest, GuardContext } from './request.js';
import type { Verdict } from './verdict.js';

/**
 * A framework-neutral request check: everything HTTP-facing in Portcullis is one. May answer
 * synchronously (no promise, no microtask) or asynchronously. A guard that throws or rejects sends
 * the error down the framework's error path.
 *
 * @example
 * ```ts
 * import type { Guard } from '@portcullis/core';
 *
 * const requireApiKey: Guard<{ apiKey: string }> = (req) => {
 *   const apiKey = req.header('x-api-key');
 *   return apiKey === undefined
 *     ? { action: 'respond', status: 401, body: { error: 'missing x-api-key' } }
 *     : { action: 'continue', context: { apiKey } };
 * };
 * ```
 */
export type Guard<Ctx extends object = GuardContext> = (
  req: GatewayRequest,
) => Verdict<Ctx> | PromiseLike<Verdict<Ctx>>;

/** The context type a guard adds. */
export type ContextOf<G> = G extends Guard<infer C> ? C : never;
