/**
 * The cost of `registry.get` for a name the registry has not seen (a registry keyed by
 * client-derived names creates a breaker per new name), next to `createBreaker` with the same
 * settings. Run: `cd bench && node --conditions=@portcullis/source --import tsx src/registry-get.ts`
 * (add `--cpu-prof --cpu-prof-dir=/tmp/prof` before `--import` to profile).
 */
import { createBreaker, createBreakerRegistry, failureRate } from '@portcullis/circuit-breaker';

const N = 100_000;
const ROUNDS = 5;

function perCall(run: (i: number) => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) run(i);
  return Number(process.hrtime.bigint() - start) / N / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const shapes = {
  'defaults (consecutiveFailures(5))': {},
  'failureRate, count window of 100': { trip: failureRate({ threshold: 0.5, window: { calls: 100 } }) },
} as const;

for (const [label, defaults] of Object.entries(shapes)) {
  const results: Record<string, number[]> = {
    createBreaker: [],
    'registry.get, new name': [],
    'registry.get, full (evicting)': [],
  };
  for (let round = 0; round < ROUNDS; round++) {
    results.createBreaker?.push(perCall((i) => createBreaker({ ...defaults, name: `svc-${String(i)}` })));
    const roomy = createBreakerRegistry({ defaults, maxBreakers: N });
    results['registry.get, new name']?.push(perCall((i) => roomy.get(`svc-${String(round)}-${String(i)}`)));
    const full = createBreakerRegistry({ defaults, maxBreakers: 1_000 });
    results['registry.get, full (evicting)']?.push(perCall((i) => full.get(`svc-${String(round)}-${String(i)}`)));
  }
  console.log(label);
  for (const [name, values] of Object.entries(results)) {
    console.log(
      `  ${name.padEnd(32)} ${median(values).toFixed(2)} µs per call (median of ${String(ROUNDS)} × ${String(N)})`,
    );
  }
}
