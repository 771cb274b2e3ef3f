import type { GuardContext } from './request.js';

/** How a request ended, as reported to `onComplete`. */
export interface Outcome {
  /**
   * The status sent to the client. `499` when the client went away before a response was sent
   * (then `aborted` is true); `500` when a handler or later guard threw and nothing better is known.
   */
  status: number;
  /** Milliseconds from the guard's verdict to the end of the response. */
  durationMs: number;
  /** The error, when a handler or a later guard threw. */
  error?: unknown;
  /** True when the client disconnected before the response finished. */
  aborted?: boolean;
}

/** Called once, when the request the verdict was given for has ended. */
export type OnComplete = (outcome: Outcome) => void;

/**
 * Let the request through. Headers and context are merged with those of other guards; see
 * `compose` for the rules.
 */
export interface ContinueVerdict<Ctx extends object = GuardContext> {
  readonly action: 'continue';
  /** Added to the response (appended to any value another guard set for the same name). */
  readonly responseHeaders?: Headers | undefined;
  /**
   * Set on the request before the handler or upstream sees it, replacing any value the client sent
   * under any spelling of the name (so a client cannot spoof them; see `stripUpstreamHeaders`).
   */
  readonly upstreamHeaders?: Headers | undefined;
  /**
   * Request headers to remove before the handler or upstream sees them: every header whose name
   * reads the same ignoring case and `_` versus `-` (`X_User_Id` for `x-user-id`, as CGI-style
   * upstreams read both), from every view the framework offers of the request (Node's `headers`,
   * `headersDistinct` and `rawHeaders`; Hono's `c.req.raw.headers`). The `upstreamHeaders` are
   * stripped so too, then set in the effective view (Node's `headers`, Hono's `c.req.raw.headers`).
   */
  readonly stripUpstreamHeaders?: readonly string[] | undefined;
  /** Made visible to later guards (`req.context`) and to handlers (one name per framework). */
  readonly context?: Ctx | undefined;
  /** Learns how the request ended, exactly once. */
  readonly onComplete?: OnComplete | undefined;
}

/** Answer the request now; the handler does not run. */
export interface RespondVerdict {
  readonly action: 'respond';
  /** HTTP status code. */
  readonly status: number;
  /** Response headers. */
  readonly headers?: Headers | undefined;
  /**
   * Body: a string is sent as-is (`text/plain` unless `content-type` is set), `Uint8Array` as bytes,
   * `undefined` as no body, anything else as JSON (`application/json` unless `content-type` is set,
   * e.g. `application/problem+json`).
   */
  readonly body?: unknown;
  /**
   * Learns how the request ended, exactly once (set by `compose` when guards before the responding
   * one asked to be told).
   */
  readonly onComplete?: OnComplete | undefined;
}

/** Anything `new Headers(...)` accepts. */
export type HeadersInitLike = ConstructorParameters<typeof Headers>[0];

/** What a guard decides about a request. */
export type Verdict<Ctx extends object = GuardContext> = ContinueVerdict<Ctx> | RespondVerdict;

/**
 * The verdict that lets a request through with nothing added; shared, frozen, allocation-free.
 *
 * @example
 * ```ts
 * import { CONTINUE, type Guard } from '@portcullis/core';
 *
 * const allowAll: Guard = () => CONTINUE;
 * ```
 */
export const CONTINUE: ContinueVerdict<never> = Object.freeze({ action: 'continue' });

/**
 * Builds a JSON `respond` verdict.
 *
 * @example
 * ```ts
 * import { respond, type Guard } from '@portcullis/core';
 *
 * const maintenance: Guard = () =>
 *   respond(503, { error: 'maintenance' }, { 'retry-after': '120' });
 * ```
 */
export function respond(status: number, body?: unknown, headers?: HeadersInitLike): RespondVerdict {
  return { action: 'respond', status, body, headers: headers === undefined ? undefined : new Headers(headers) };
}
