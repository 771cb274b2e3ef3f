import type { FastifyPluginCallback } from 'fastify';
import { InvalidOptionError } from '../errors.js';

/**
 * Refuses, with an error that shows the right form, a Portcullis plugin factory registered as if it
 * were the plugin itself (`app.register(portcullis, { guard })` instead of
 * `app.register(portcullis(guard))`). Fastify then calls the factory with its instance first, which
 * would otherwise fail with a puzzling "expected a function, got {}" — or, thrown synchronously,
 * escape `register` altogether.
 *
 * Returns `undefined` when `firstArgument` is not a Fastify instance (the factory was called as
 * meant). Otherwise returns what the factory should hand back to Fastify: a thenable that rejects
 * with an `InvalidOptionError`, which Fastify awaits as the plugin's result, so the error becomes
 * the rejection of `app.register(...)` / `app.ready()`.
 *
 * @param firstArgument - What the factory received first.
 * @param option - The name of that parameter, for the error (`'guard'`, `'options'`).
 * @param usage - The right form, e.g. `'app.register(rateLimit({ limiter }))'`.
 *
 * @example
 * ```ts
 * import type { FastifyPluginCallback } from 'fastify';
 * import { refusePluginForm } from '@portcullis/core/fastify';
 *
 * export function myPlugin(options: { limit: number }): FastifyPluginCallback {
 *   const refusal = refusePluginForm(options, 'options', 'app.register(myPlugin({ limit: 10 }))');
 *   if (refusal !== undefined) return refusal;
 *   return (instance, _options, done) => done();
 * }
 * ```
 */
export function refusePluginForm(
  firstArgument: unknown,
  option: string,
  usage: string,
): FastifyPluginCallback | undefined {
  if (!isFastifyInstance(firstArgument)) return undefined;
  const error = new InvalidOptionError(
    option,
    firstArgument,
    `the factory's options, but the factory was registered as the plugin: write \`await ${usage}\``,
  );
  // A thenable rather than a rejected promise: nothing is reported as unhandled if it is dropped.
  const refusal = {
    then(_resolve: unknown, reject: (reason: unknown) => void): void {
      reject(error);
    },
  };
  // Fastify calls the "plugin" (this factory) and awaits a thenable result: the refusal travels as
  // that result, not as a plugin, hence the cast.
  return refusal as unknown as FastifyPluginCallback;
}

function isFastifyInstance(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate['register'] === 'function' &&
    typeof candidate['addHook'] === 'function' &&
    typeof candidate['decorateRequest'] === 'function'
  );
}
