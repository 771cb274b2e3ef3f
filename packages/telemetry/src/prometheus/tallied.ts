import { Counter, Histogram, type Registry } from 'prom-client';
import type { CounterInstrument, HistogramInstrument, Labels } from '../instruments.js';
import { SeriesIndex } from './series.js';

/** What prom-client needs to create a metric. */
export interface TalliedConfig {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly registers: Registry[];
}

/**
 * prom-client 15's own record of one histogram series (`Histogram#hashMap`'s values), which its
 * export reads: bucket counts by upper bound (not cumulative), sum and count.
 */
interface PromHistogramSeries {
  labels: Labels;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

interface CounterSeries {
  readonly labels: Labels;
  value: number;
}

interface HistogramSeries {
  readonly labels: Labels;
  /** Per bucket, the values that fell in it (not cumulative); above the last bound: in `count` only. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * Replaces a metric's `reset` (a registry's `resetMetrics()`) with one that also forgets the
 * tallies, as prom-client's own would; returns prom-client's, which empties only its record.
 */
function resetsWith(metric: { reset(): void }, series: SeriesIndex<unknown>): () => void {
  const reset = metric.reset.bind(metric);
  metric.reset = () => {
    series.clear();
    reset();
  };
  return reset;
}

/**
 * A counter tallied per series by us, and handed to prom-client when a registry collects it: the
 * same series, values and order as `counter.inc(labels, value)` per event would give, at the cost
 * of a lookup by label values instead of prom-client's hashing and validation per event.
 */
export function talliedCounter(config: TalliedConfig): CounterInstrument {
  const series = new SeriesIndex<CounterSeries>(config.labelNames, (labels) => ({ labels, value: 0 }));
  const counter: Counter = new Counter({
    ...config,
    collect() {
      emptyRecord();
      for (const s of series.all) counter.inc(s.labels, s.value);
    },
  });
  const emptyRecord = resetsWith(counter, series);
  return {
    add(labels, value) {
      // prom-client's checks, in its order.
      if (value && !Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${String(value)}`);
      if ((value as number) < 0) throw new Error('It is not possible to decrease a counter');
      series.get(labels).value += value ?? 1;
    },
  };
}

/**
 * A histogram tallied per series by us (a count per bucket, the sum and the count), handed to
 * prom-client when a registry collects it, so that its own export prints it: the same output as
 * `histogram.observe(labels, value)` per event would give. It writes prom-client 15's record of
 * the series (`hashMap`), which `get()` reads right after `collect()` in every prom-client 15 release
 * (15.0.0 to 15.1.3, checked 2026-12-02; the peer range is `^15`): the equivalence test against
 * prom-client's own observations guards that for the installed one.
 */
export function talliedHistogram(config: TalliedConfig, buckets: readonly number[]): HistogramInstrument {
  const bounds = [...buckets];
  const series = new SeriesIndex<HistogramSeries>(config.labelNames, (labels) => ({
    labels,
    counts: bounds.map(() => 0),
    sum: 0,
    count: 0,
  }));
  const histogram: Histogram = new Histogram({
    ...config,
    buckets: bounds,
    collect() {
      const records: Record<string, PromHistogramSeries> = {};
      let n = 0;
      for (const s of series.all) {
        const bucketValues: Record<number, number> = {};
        for (let i = 0; i < bounds.length; i++) bucketValues[bounds[i] as number] = s.counts[i] as number;
        // Keys that are not array indices: an object keeps them in insertion order.
        records[`#${String(n++)}`] = { labels: s.labels, bucketValues, sum: s.sum, count: s.count };
      }
      (histogram as unknown as { hashMap: Record<string, PromHistogramSeries> }).hashMap = records;
    },
  });
  resetsWith(histogram, series);
  return {
    record(labels, value) {
      if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${String(value)}`);
      const s = series.get(labels);
      s.sum += value;
      s.count += 1;
      for (let i = 0; i < bounds.length; i++) {
        if (value <= (bounds[i] as number)) {
          s.counts[i] = (s.counts[i] as number) + 1;
          break;
        }
      }
    },
  };
}
