import type { GuardContext } from '../request.js';

/**
 * The Hono environment the `portcullis` middleware declares: its context is `c.get('portcullis')`
 * (also `c.var.portcullis`). `Ctx` is the context type the guard adds; Hono intersects the
 * environments of the middleware an app uses, so the context of several `portcullis` middlewares
 * accumulates in the types as it does at run time.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import type { PortcullisEnv } from '@portcullis/core/hono';
 *
 * // A sub-app whose handlers run behind a guard mounted by the parent app.
 * const api = new Hono<PortcullisEnv<{ user?: string }>>();
 * api.get('/me', (c) => c.json({ user: c.get('portcullis').user ?? null }));
 * ```
 */
export interface PortcullisEnv<Ctx extends object = GuardContext> {
  Variables: { portcullis: Ctx };
}
