import fc from 'fast-check';
import { afterAll, vi } from 'vitest';

// Property runs are reproducible: a failure prints `{ seed, path }`; replay it with
//   FC_SEED=<seed> FC_PATH=<path> pnpm test
// and raise the effort for a soak with FC_NUM_RUNS=10000.
const seed = process.env['FC_SEED'];
const path = process.env['FC_PATH'];
const numRuns = process.env['FC_NUM_RUNS'];

fc.configureGlobal({
  // An explicit `maxLength` (or `maxDepth`) is meant: fast-check 4 otherwise caps every array and
  // string at its 'small' size (about 10) whatever the maximum, and a property written for 300
  // operations never saw more than 10.
  defaultSizeToMaxWhenMaxSpecified: true,
  ...(seed === undefined ? {} : { seed: Number(seed) }),
  ...(path === undefined ? {} : { path }),
  ...(numRuns === undefined ? {} : { numRuns: Number(numRuns) }),
});

// Files of a worker share one module cache and one set of globals (vitest.config.ts: isolate
// false): a file that left fake timers on must not hand them to the next.
afterAll(() => {
  vi.useRealTimers();
});
