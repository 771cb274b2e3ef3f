import { fc, test } from '@fast-check/vitest';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect } from 'vitest';
import { talliedCounter, talliedHistogram } from './tallied.js';

const BOUNDS = [0.001, 0.01, 0.1, 1, 10];
const NAMES = ['route', 'method', 'status'];
const VALUES = ['', 'users', 'orders', 'GET', '2xx', 'a b', 'é"\\'];

/** A label set over some of the names, its keys in a random order. */
const labelSet = (names: readonly string[]) =>
  fc
    .tuple(
      fc.shuffledSubarray([...names], { minLength: names.length, maxLength: names.length }),
      fc.array(fc.constantFrom(...VALUES), { minLength: names.length, maxLength: names.length }),
    )
    .map(([order, values]) => Object.fromEntries(order.map((name, i) => [name, values[i] as string])));

type Op =
  | { kind: 'add'; labels: Record<string, string>; value: number | undefined }
  | { kind: 'record'; labels: Record<string, string>; value: number }
  | { kind: 'scrape' }
  | { kind: 'reset' };

const ops = (names: readonly string[]) =>
  fc.array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('add' as const),
          labels: labelSet(names),
          value: fc.option(fc.oneof(fc.nat(5), fc.double({ min: 0, max: 100, noNaN: true })), { nil: undefined }),
        }),
      },
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('record' as const),
          labels: labelSet(names),
          value: fc.oneof(fc.constantFrom(...BOUNDS), fc.double({ min: -1, max: 20, noNaN: true })),
        }),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'scrape' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
    ),
    { maxLength: 60 },
  );

const labelNames = fc.shuffledSubarray(NAMES, { minLength: 0, maxLength: 3 });

/** A registry fed through prom-client's own `inc`/`observe` per event, and one through the tallies. */
function pair(names: readonly string[]) {
  const own = new Registry();
  const tallied = new Registry();
  const config = (registry: Registry, name: string) => ({
    name,
    help: `${name} help`,
    labelNames: names,
    registers: [registry],
  });
  const counter = new Counter(config(own, 'c_total'));
  const histogram = new Histogram({ ...config(own, 'h_seconds'), buckets: BOUNDS });
  const tc = talliedCounter(config(tallied, 'c_total'));
  const th = talliedHistogram(config(tallied, 'h_seconds'), BOUNDS);
  return {
    async apply(op: Op): Promise<void> {
      if (op.kind === 'add') {
        if (op.value === undefined) counter.inc(op.labels);
        else counter.inc(op.labels, op.value);
        tc.add(op.labels, op.value);
      } else if (op.kind === 'record') {
        histogram.observe(op.labels, op.value);
        th.record(op.labels, op.value);
      } else if (op.kind === 'reset') {
        own.resetMetrics();
        tallied.resetMetrics();
      } else {
        await same();
      }
    },
    same,
  };
  async function same(): Promise<void> {
    expect(await tallied.metrics()).toBe(await own.metrics());
    expect(await tallied.getMetricsAsJSON()).toEqual(await own.getMetricsAsJSON());
  }
}

describe('tallied metrics', () => {
  test.prop([labelNames.chain((names) => fc.tuple(fc.constant(names), ops(names)))])(
    "export what prom-client's own inc and observe per event would: names, labels (in the first event's order), series order, buckets, sums and counts",
    async ([names, list]) => {
      const both = pair(names);
      for (const op of list) await both.apply(op);
      await both.same();
    },
  );

  test('refuse a label the metric does not have, and values prom-client refuses', () => {
    const registry = new Registry();
    const config = { help: 'h', labelNames: ['route'], registers: [registry] };
    const counter = talliedCounter({ ...config, name: 'c_total' });
    const histogram = talliedHistogram({ ...config, name: 'h_seconds' }, BOUNDS);
    expect(() => {
      counter.add({ route: 'a', other: 'b' });
    }).toThrow(/not included in initial labelset/);
    expect(() => {
      counter.add({ route: 'a' }, -1);
    }).toThrow(/not possible to decrease a counter/);
    expect(() => {
      counter.add({ route: 'a' }, Infinity);
    }).toThrow(TypeError);
    expect(() => {
      histogram.record({ route: 'a' }, Number.NaN);
    }).toThrow(TypeError);
  });
});
