/**
 * The Express 5 adapter: `portcullis(guard)` turns any guard into middleware, and handlers read the
 * guards' context as `req.portcullis`.
 *
 * @packageDocumentation
 */
export { portcullis } from './middleware.js';
