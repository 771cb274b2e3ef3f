/**
 * The Hono 4 adapter: `portcullis(guard)` turns any guard into middleware, and handlers read the
 * guards' context as `c.get('portcullis')`.
 *
 * @packageDocumentation
 */
export type { PortcullisEnv } from './env.js';
export { portcullis } from './middleware.js';
export type { HonoPortcullisOptions } from './middleware.js';
