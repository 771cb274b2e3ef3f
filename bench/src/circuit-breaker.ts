/**
 * The cost of protecting a resolved async no-op with a circuit breaker: @portcullis/circuit-breaker
 * vs opossum 10 vs cockatiel 4, side by side in one process, rounds rotated, medians reported.
 *
 * - Paths: closed-success, closed-failure (a window that never trips), open-rejection and
 *   half-open (a probe in flight, the other calls refused), each sequential (`await` per call) and
 *   in batches of 1,000 concurrent calls (`Promise.all`). Overhead = time per call minus the bare
 *   call (`await noop()`, or a caught rejection for the failure paths).
 * - Event-loop delay during a failure storm: every call fails, the window is full and never trips;
 *   `perf_hooks.monitorEventLoopDelay` records the delay while batches of 1,000 run.
 *
 *     cd bench && node --conditions=@portcullis/source --import tsx src/circuit-breaker.ts [--quick]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { consecutiveFailures, createBreaker, failureRate, type Breaker } from '@portcullis/circuit-breaker';
import {
  circuitBreaker as cockatielBreaker,
  ConsecutiveBreaker,
  handleAll,
  SamplingBreaker,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import CircuitBreaker from 'opossum';
import { fixed, isMain, log, median, quick, sectionMain, settle, table, times, type Section } from './common.js';

const SEQUENTIAL_CALLS = quick ? 20_000 : 200_000;
const BATCH = 1_000;
const BATCHES = quick ? 20 : 200;
const ROUNDS = quick ? 2 : 7;
const STORM_CALLS = quick ? 20_000 : 200_000;
/** Time budget of one sample (and of the storm, per library), in ms. */
const SAMPLE_MS = quick ? 150 : 1_500;
const STORM_MS = quick ? 2_000 : 15_000;
/** A trip threshold no run reaches: the failure paths measure a closed breaker with a full window. */
const NEVER = 1_000_000_000;

const UPSTREAM_ERROR = new Error('upstream failed');
const noop = async (): Promise<void> => {
  // a resolved async no-op: the protected function
};
const failing = async (): Promise<void> => {
  await Promise.resolve();
  throw UPSTREAM_ERROR;
};
const hang = (): Promise<void> => new Promise<void>(() => undefined);
const swallow = (): void => undefined;

type Lib = 'bare' | 'ours' | 'ours-time' | 'opossum' | 'cockatiel';
type Path = 'closed-success' | 'closed-failure' | 'open-rejection' | 'half-open-rejection';
type Mode = 'sequential' | 'batch';

/** One call of a case: resolves when the protected call settled (errors swallowed). */
type Call = () => Promise<void>;

interface Case {
  readonly lib: Lib;
  readonly path: Path;
  readonly call: Call;
  readonly close?: () => void;
}

const LIB_NAMES: Record<Lib, string> = {
  bare: 'bare call',
  ours: 'ours (consecutiveFailures, no clock)',
  'ours-time': 'ours (failureRate over a 10 s time window)',
  opossum: 'opossum 10 (rolling 10 s window, timeout off)',
  cockatiel: 'cockatiel 4 (ConsecutiveBreaker)',
};

function oursBreaker(lib: 'ours' | 'ours-time', tripAt: number, openMs = 600_000): Breaker {
  return createBreaker({
    name: 'bench',
    trip:
      lib === 'ours'
        ? consecutiveFailures(tripAt)
        : failureRate({ threshold: 0.5, minimumCalls: tripAt, window: { durationMs: 10_000, buckets: 10 } }),
    openDuration: openMs,
    halfOpen: { maxProbes: 1, maxWaitMs: 600_000 },
  });
}

function opossum(fn: () => Promise<void>, volumeThreshold: number, resetTimeout = 600_000): CircuitBreaker {
  // timeout: false, so opossum schedules no timer per call: its breaker logic alone is measured.
  return new CircuitBreaker(fn, { timeout: false, volumeThreshold, errorThresholdPercentage: 50, resetTimeout });
}

function cockatiel(threshold: number, halfOpenAfter = 600_000): CircuitBreakerPolicy {
  return cockatielBreaker(handleAll, { halfOpenAfter, breaker: new ConsecutiveBreaker(threshold) });
}

/** Builds every case; the open and half-open ones are tripped (and probed) first. */
async function makeCases(): Promise<Case[]> {
  const cases: Case[] = [];
  cases.push({ lib: 'bare', path: 'closed-success', call: noop });
  cases.push({ lib: 'bare', path: 'closed-failure', call: () => failing().then(undefined, swallow) });

  for (const lib of ['ours', 'ours-time'] as const) {
    const closed = oursBreaker(lib, NEVER);
    cases.push({ lib, path: 'closed-success', call: () => closed.execute(noop) });
    const failingBreaker = oursBreaker(lib, NEVER);
    cases.push({ lib, path: 'closed-failure', call: () => failingBreaker.execute(failing).then(undefined, swallow) });
    const open = oursBreaker(lib, 1);
    await open.execute(failing).catch(swallow);
    if (open.state !== 'open') throw new Error(`${lib} did not open`);
    cases.push({ lib, path: 'open-rejection', call: () => open.execute(noop).then(undefined, swallow) });
    const halfOpen = oursBreaker(lib, 1, 10);
    await halfOpen.execute(failing).catch(swallow);
    await settle(20);
    void halfOpen.execute(hang); // the probe, in flight for good
    if (halfOpen.state !== 'half-open') throw new Error(`${lib} is not half-open`);
    cases.push({ lib, path: 'half-open-rejection', call: () => halfOpen.execute(noop).then(undefined, swallow) });
  }

  {
    const closed = opossum(noop, NEVER);
    cases.push({
      lib: 'opossum',
      path: 'closed-success',
      call: () => closed.fire() as Promise<void>,
      close: () => {
        closed.shutdown();
      },
    });
    const failingBreaker = opossum(failing, NEVER);
    cases.push({
      lib: 'opossum',
      path: 'closed-failure',
      call: () => failingBreaker.fire().then(undefined, swallow),
      close: () => {
        failingBreaker.shutdown();
      },
    });
    const open = opossum(failing, 1);
    await open.fire().catch(swallow);
    if (!open.opened) throw new Error('opossum did not open');
    cases.push({
      lib: 'opossum',
      path: 'open-rejection',
      call: () => open.fire().then(undefined, swallow),
      close: () => {
        open.shutdown();
      },
    });
    const halfOpen = opossum(hang, 1, 10);
    halfOpen.open(); // resetTimeout 10 ms: half-open after it
    await settle(30);
    if (!halfOpen.halfOpen) throw new Error('opossum is not half-open');
    void halfOpen.fire().catch(swallow); // the trial call, in flight for good
    cases.push({
      lib: 'opossum',
      path: 'half-open-rejection',
      call: () => halfOpen.fire().then(undefined, swallow),
      close: () => {
        halfOpen.shutdown();
      },
    });
  }

  {
    const closed = cockatiel(NEVER);
    cases.push({ lib: 'cockatiel', path: 'closed-success', call: () => closed.execute(noop) });
    const failingBreaker = cockatiel(NEVER);
    cases.push({
      lib: 'cockatiel',
      path: 'closed-failure',
      call: () => failingBreaker.execute(failing).then(undefined, swallow),
    });
    const open = cockatiel(1);
    await open.execute(failing).catch(swallow);
    cases.push({ lib: 'cockatiel', path: 'open-rejection', call: () => open.execute(noop).then(undefined, swallow) });
    // cockatiel has no fast refusal while half-open: extra calls wait for the probe's verdict.
  }
  return cases;
}

/**
 * Calls `call` one after another, `maxCalls` times or until `budgetMs` have passed (checked every
 * 64 calls), whichever comes first; returns ns per call. The time budget keeps a slow path (opossum
 * failing with a full window costs milliseconds per call) from stretching the run for hours.
 */
async function runSequential(call: Call, maxCalls: number, budgetMs = SAMPLE_MS): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  while (n < maxCalls) {
    await call();
    n++;
    if ((n & 63) === 0 && performance.now() - t0 > budgetMs) break;
  }
  return ((performance.now() - t0) * 1e6) / n;
}

/** Batches of {@link BATCH} concurrent calls, `maxBatches` or until `budgetMs` passed; ns per call. */
async function runBatches(call: Call, maxBatches: number, budgetMs = SAMPLE_MS): Promise<number> {
  const t0 = performance.now();
  const batch = new Array<Promise<void>>(BATCH);
  let b = 0;
  while (b < maxBatches) {
    for (let i = 0; i < BATCH; i++) batch[i] = call();
    await Promise.all(batch);
    b++;
    if (performance.now() - t0 > budgetMs) break;
  }
  return ((performance.now() - t0) * 1e6) / (b * BATCH);
}

interface Measured {
  readonly lib: Lib;
  readonly path: Path;
  readonly mode: Mode;
  readonly nsPerCall: number;
}

async function measureOverhead(cases: readonly Case[]): Promise<Measured[]> {
  const samples = new Map<string, number[]>();
  const key = (c: Case, mode: Mode): string => `${c.lib}|${c.path}|${mode}`;
  // Warm every case up before the first measured round.
  for (const c of cases) {
    await runSequential(c.call, SEQUENTIAL_CALLS / 10, SAMPLE_MS / 5);
    await runBatches(c.call, Math.max(2, BATCHES / 10), SAMPLE_MS / 5);
  }
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order, so no library always runs first (or right after a GC-heavy one).
    const order = cases.map((_, i) => cases[(i + round) % cases.length] as Case);
    for (const c of order) {
      for (const mode of ['sequential', 'batch'] as const) {
        const ns =
          mode === 'sequential' ? await runSequential(c.call, SEQUENTIAL_CALLS) : await runBatches(c.call, BATCHES);
        const list = samples.get(key(c, mode)) ?? [];
        list.push(ns);
        samples.set(key(c, mode), list);
      }
    }
    log(`circuit-breaker overhead: round ${String(round + 1)}/${String(ROUNDS)}`);
    await settle();
  }
  return cases.flatMap((c) =>
    (['sequential', 'batch'] as const).map((mode) => ({
      lib: c.lib,
      path: c.path,
      mode,
      nsPerCall: median(samples.get(key(c, mode)) ?? []),
    })),
  );
}

interface Storm {
  readonly lib: Lib;
  readonly failures: number;
  readonly usPerFailure: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Every call fails through a breaker whose full window never trips; the loop delay is recorded. */
async function failureStorm(lib: Lib): Promise<Storm> {
  let call: Call;
  let close = (): void => undefined;
  if (lib === 'ours' || lib === 'ours-time') {
    const b = oursBreaker(lib, NEVER);
    call = () => b.execute(failing).then(undefined, swallow);
  } else if (lib === 'opossum') {
    const b = opossum(failing, NEVER);
    call = () => b.fire().then(undefined, swallow);
    close = () => {
      b.shutdown();
    };
  } else if (lib === 'cockatiel') {
    const b = cockatielBreaker(handleAll, {
      halfOpenAfter: 600_000,
      breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000, minimumRps: NEVER }),
    });
    call = () => b.execute(failing).then(undefined, swallow);
  } else {
    call = () => failing().then(undefined, swallow);
  }
  // Fill the window first.
  await runBatches(call, Math.max(2, STORM_CALLS / BATCH / 10), STORM_MS / 5);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const t0 = performance.now();
  let done = 0;
  while (done < STORM_CALLS && performance.now() - t0 < STORM_MS) {
    await runBatches(call, 1, Infinity);
    done += BATCH;
    // Let timers (the delay monitor's, opossum's bucket rotation) run between batches, as
    // request handling would.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const elapsed = performance.now() - t0;
  histogram.disable();
  close();
  const ms = (ns: number): number => ns / 1e6;
  return {
    lib,
    failures: done,
    usPerFailure: (elapsed * 1000) / done,
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
  };
}

const PATHS: readonly Path[] = ['closed-success', 'closed-failure', 'open-rejection', 'half-open-rejection'];
const BARE_FOR: Record<Path, Path> = {
  'closed-success': 'closed-success',
  'closed-failure': 'closed-failure',
  'open-rejection': 'closed-success',
  'half-open-rejection': 'closed-success',
};

function ns(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} ns` : 'n/a';
}

export async function runCircuitBreakerBench(): Promise<Section> {
  const cases = await makeCases();
  const measured = await measureOverhead(cases);
  for (const c of cases) c.close?.();
  const find = (lib: Lib, path: Path, mode: Mode): number =>
    measured.find((m) => m.lib === lib && m.path === path && m.mode === mode)?.nsPerCall ?? NaN;
  const overhead = (lib: Lib, path: Path, mode: Mode): number =>
    find(lib, path, mode) - find('bare', BARE_FOR[path], mode);

  const parts: string[] = [];
  for (const mode of ['sequential', 'batch'] as const) {
    const rows: string[][] = [];
    for (const path of PATHS) {
      const bare = find('bare', BARE_FOR[path], mode);
      for (const lib of ['ours', 'ours-time', 'opossum', 'cockatiel'] as const) {
        const total = find(lib, path, mode);
        if (!Number.isFinite(total)) {
          rows.push([path, LIB_NAMES[lib], 'n/a', 'n/a', 'no fast refusal (queues behind the probe)']);
          continue;
        }
        rows.push([path, LIB_NAMES[lib], ns(total), ns(total - bare), '']);
      }
      rows.push([
        path,
        `(bare: ${BARE_FOR[path] === 'closed-failure' ? 'the failing call, caught' : 'await noop()'})`,
        ns(bare),
        '',
        '',
      ]);
    }
    parts.push(
      `### ${mode === 'sequential' ? 'Sequential (await each call)' : `Batches of ${BATCH.toLocaleString('en-US')} concurrent calls`}\n\n` +
        table(['path', 'library', 'time per call', 'overhead', 'note'], rows),
    );
  }

  const ratioRows: string[][] = [];
  for (const mode of ['sequential', 'batch'] as const) {
    const ours = overhead('ours', 'closed-success', mode);
    const oursTime = overhead('ours-time', 'closed-success', mode);
    const opo = overhead('opossum', 'closed-success', mode);
    const cock = overhead('cockatiel', 'closed-success', mode);
    ratioRows.push([
      `closed overhead, ${mode}`,
      `${times(opo / ours)} (time window: ${times(opo / oursTime)})`,
      '≥ 5×',
      `${times(cock / ours)} (time window: ${times(cock / oursTime)})`,
      '≥ 1.2×',
    ]);
    const openOurs = find('ours', 'open-rejection', mode);
    const openOpo = find('opossum', 'open-rejection', mode);
    const openCock = find('cockatiel', 'open-rejection', mode);
    ratioRows.push([
      `open rejection (time per call), ${mode}`,
      times(openOpo / openOurs),
      '≥ 3×',
      times(openCock / openOurs),
      '—',
    ]);
  }
  parts.unshift(
    '### Ratios (theirs ÷ ours: above 1 means ours costs less)\n\n' +
      table(['measure', 'vs opossum', 'target', 'vs cockatiel', 'target'], ratioRows),
  );

  log('circuit-breaker: failure storm');
  const storms: Storm[] = [];
  for (const lib of ['bare', 'ours', 'ours-time', 'opossum', 'cockatiel'] as const) {
    storms.push(await failureStorm(lib));
    await settle(50);
  }
  parts.push(
    `### Event-loop delay during a failure storm\n\nUp to ${STORM_CALLS.toLocaleString('en-US')} failing calls (at most ${String(STORM_MS / 1000)} s per library) in batches of ` +
      `${BATCH.toLocaleString('en-US')}, through a breaker whose window is full and never trips ` +
      '(opossum: rolling 10 s window; cockatiel: SamplingBreaker over 10 s); ' +
      '`monitorEventLoopDelay({ resolution: 1 })`.\n\n' +
      table(
        ['library', 'failures run', 'time per failure', 'loop delay p50', 'p99', 'max'],
        storms.map((s) => [
          s.lib === 'bare' ? 'bare call (no breaker)' : LIB_NAMES[s.lib],
          s.failures.toLocaleString('en-US'),
          `${fixed(s.usPerFailure, 2)} µs`,
          `${fixed(s.p50, 1)} ms`,
          `${fixed(s.p99, 1)} ms`,
          `${fixed(s.max, 1)} ms`,
        ]),
      ),
  );

  return {
    title: 'Breaker overhead on a resolved async no-op',
    markdown: [
      `Sequential: ${SEQUENTIAL_CALLS.toLocaleString('en-US')} calls per sample; batches: ${String(BATCHES)} × ` +
        `${BATCH.toLocaleString('en-US')}; median of ${String(ROUNDS)} rotated rounds. Overhead = time per call ` +
        'minus the bare call. Failure paths use a breaker whose threshold is never reached. Half-open: one ' +
        'probe in flight, the measured calls refused.',
      '',
      ...parts.flatMap((p) => [p, '']),
    ].join('\n'),
  };
}

if (isMain(import.meta.url)) await sectionMain(runCircuitBreakerBench);
