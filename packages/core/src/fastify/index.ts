/**
 * The Fastify 5 adapter: `portcullis(guard)` turns any guard into a plugin, and handlers read the
 * guards' context as `request.portcullis`.
 *
 * @packageDocumentation
 */
export { portcullis } from './plugin.js';
export { refusePluginForm } from './plugin-form.js';
