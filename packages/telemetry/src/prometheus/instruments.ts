import { InvalidOptionError } from '@portcullis/core';
import { Counter, Gauge, type Registry } from 'prom-client';
import type {
  CounterInstrument,
  HistogramInstrument,
  HistogramSpec,
  Instruments,
  MetricSpec,
  ScrapeReader,
  ScrapeSpec,
} from '../instruments.js';
import { talliedCounter, talliedHistogram } from './tallied.js';

/** Histogram boundaries per kind. */
export interface Buckets {
  readonly seconds: readonly number[];
  readonly sizes: readonly number[];
}

/**
 * The prom-client backend: one metric per spec, created on first use (so a registry shows only
 * what is observed) and shared by every observed object. Counters and histograms fed per event are
 * tallied by us and handed to prom-client at collection (see `tallied.ts`). Scrape-time metrics are reset and refilled
 * by their readers at each collection, so a series disappears with what it described.
 */
export function promInstruments(registry: Registry, prefix: string, buckets: Buckets): Instruments {
  const counters = new Map<string, CounterInstrument>();
  const histograms = new Map<string, HistogramInstrument>();
  const readers = new Map<string, Set<ScrapeReader>>();

  function config(spec: MetricSpec): {
    name: string;
    help: string;
    labelNames: readonly string[];
    registers: Registry[];
  } {
    const name = `${prefix}${spec.name}`;
    if (registry.getSingleMetric(name) !== undefined) {
      throw new InvalidOptionError(
        'registry',
        name,
        `a registry without a metric named ${name} (one prometheusMetrics per registry and prefix)`,
      );
    }
    return { name, help: spec.help, labelNames: spec.labels, registers: [registry] };
  }

  function scrapeMetric(spec: ScrapeSpec): Set<ScrapeReader> {
    const set = new Set<ScrapeReader>();
    if (spec.kind === 'gauge') {
      const gauge: Gauge = new Gauge({
        ...config(spec),
        collect() {
          gauge.reset();
          for (const reader of set)
            reader.read((labels, value) => {
              gauge.set(labels, value);
            });
        },
      });
    } else {
      const counter: Counter = new Counter({
        ...config(spec),
        collect() {
          counter.reset();
          for (const reader of set)
            reader.read((labels, value) => {
              counter.inc(labels, value);
            });
        },
      });
    }
    return set;
  }

  return {
    counter(spec) {
      let instrument = counters.get(spec.name);
      if (instrument === undefined) {
        instrument = talliedCounter(config(spec));
        counters.set(spec.name, instrument);
      }
      return instrument;
    },
    histogram(spec: HistogramSpec) {
      let instrument = histograms.get(spec.name);
      if (instrument === undefined) {
        instrument = talliedHistogram(config(spec), buckets[spec.buckets]);
        histograms.set(spec.name, instrument);
      }
      return instrument;
    },
    scrape(list) {
      for (const reader of list) {
        let set = readers.get(reader.spec.name);
        if (set === undefined) {
          set = scrapeMetric(reader.spec);
          readers.set(reader.spec.name, set);
        }
        set.add(reader);
      }
      return function removeReaders(): void {
        for (const reader of list) readers.get(reader.spec.name)?.delete(reader);
      };
    },
  };
}
