import type { CheckOptions } from '../check.js';

/**
 * The settings every built-in check takes: those of {@link CheckOptions} but the function, with
 * the name optional (each built-in has a default).
 *
 * @example
 * ```ts
 * import type { BuiltInCheckOptions } from '@portcullis/health';
 *
 * const options: BuiltInCheckOptions = { name: 'cache:ping', critical: false, intervalMs: 5_000 };
 * ```
 */
export type BuiltInCheckOptions = Omit<CheckOptions, 'name' | 'check'> & { name?: string | undefined };

/** The check options of a built-in: its defaults, then the caller's settings, then its function. */
export function builtIn(
  defaults: Partial<CheckOptions> & { name: string },
  options: BuiltInCheckOptions,
  check: CheckOptions['check'],
): CheckOptions {
  const merged: CheckOptions = { ...defaults, ...definedOnly(options), name: options.name ?? defaults.name, check };
  return merged;
}

function definedOnly(options: BuiltInCheckOptions): Partial<CheckOptions> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined) out[key] = value;
  return out;
}

/** Milliseconds since `start` (a `performance.now()` reading), to 0.01 ms. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
