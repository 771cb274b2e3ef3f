import type { Options } from 'tsup';

/**
 * The build every publishable package shares: ESM + CJS with `.d.ts` / `.d.cts`, one output per
 * entry (`index`, `express`, `fastify`, `hono`, …) matching the package's `exports` map.
 */
export function packageBuild(entry: Readonly<Record<string, string>>): Options {
  return {
    entry: { ...entry },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    treeshake: true,
    splitting: true,
  };
}
