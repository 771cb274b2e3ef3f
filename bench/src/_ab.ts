import { createKeyBudget, createLoader } from '@portcullis/dataloader-guard';
import DataLoader from 'dataloader';
const LOADS = 10_000;
const KEYS = Array.from({ length: LOADS }, (_, i) => i);
function answer(keys: readonly number[]): Promise<number[]> { const out = new Array<number>(keys.length); for (let i = 0; i < keys.length; i++) out[i] = keys[i]! + 1; return Promise.resolve(out); }
const makers: Record<string, () => { load(k: number): Promise<number> }> = {
  dl: () => new DataLoader<number, number>(answer, { maxBatchSize: 100 }),
  ours: () => createLoader<number, number>(answer, { maxBatchSize: 100 }),
  guards: () => createLoader<number, number>(answer, { maxBatchSize: 100, maxKeys: 20000, budget: createKeyBudget(20000), maxConcurrentBatches: 8, timeoutMs: 5000, signal: new AbortController().signal, isolateFailures: true }),
};
const only = process.argv.slice(2);
const names = only.length ? only : Object.keys(makers);
const res: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let rep = 0; rep < 120; rep++) for (const name of rep % 2 ? names : [...names].reverse()) {
  globalThis.gc!();
  const t0 = performance.now();
  const loader = makers[name]!();
  const loads = new Array<Promise<number>>(LOADS);
  for (let i = 0; i < LOADS; i++) loads[i] = loader.load(KEYS[i] as number);
  await Promise.all(loads);
  res[name]!.push(performance.now() - t0);
}
for (const n of names) { const s = res[n]!.slice(20).sort((a, b) => a - b); console.log(n, (s[s.length >> 1]! * 1e6 / LOADS).toFixed(0), 'ns/load', 'p10', (s[Math.floor(s.length / 10)]! * 1e6 / LOADS).toFixed(0)); }
