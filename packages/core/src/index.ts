/**
 * The contracts every Portcullis package speaks: guards, verdicts, `compose`, errors, the clock,
 * option validation and typed events. Framework adapters live in the `/express`, `/fastify` and
 * `/hono` subpaths.
 *
 * @packageDocumentation
 */
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { compose } from './compose.js';
export type { ComposedContext } from './compose.js';
export { hasBrand, InvalidOptionError, isInvalidOptionError, isPortcullisError, PortcullisError } from './errors.js';
export { Emitter } from './events.js';
export type { EventMap, Listener } from './events.js';
export type { ContextOf, Guard } from './guard.js';
export { assertRedisRepliesSettle } from './redis-replies.js';
export { reportUnhandled } from './report-error.js';
export { createGatewayRequest, lowerCaseHeader, withContext } from './request.js';
export type { GatewayRequest, GatewayRequestInit, GuardContext, PortcullisContext } from './request.js';
export {
  duration,
  finiteNumber,
  isFunctionOption,
  nonEmptyString,
  nonNegativeInteger,
  oneOf,
  positiveInteger,
  positiveNumber,
  ratio,
} from './validate.js';
export type { NumberBounds } from './validate.js';
export { problemDetails, PROBLEM_JSON } from './problem.js';
export type { ProblemDetails } from './problem.js';
export { CONTINUE, respond } from './verdict.js';
export type { ContinueVerdict, HeadersInitLike, OnComplete, Outcome, RespondVerdict, Verdict } from './verdict.js';
