import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import type { CounterInstrument, HistogramInstrument, Instruments, Labels, ScrapeSpec } from '../instruments.js';

/** Histogram boundaries per kind. */
export interface Buckets {
  readonly seconds: readonly number[];
  readonly sizes: readonly number[];
}

/** Our labels as OpenTelemetry attributes: namespaced, `portcullis.` + the label name. */
export function attributes(labels: Labels): Attributes {
  const out: Attributes = {};
  for (const key of Object.keys(labels)) out[`portcullis.${key}`] = labels[key];
  return out;
}

/**
 * The OpenTelemetry Meter backend: counters and histograms per event; gauges and the counters a
 * source keeps as observable instruments, read by one batch callback per observed object (one
 * snapshot per collection), removed when it is detached.
 */
export function otelInstruments(meter: Meter, buckets: Buckets): Instruments {
  const observables = new Map<string, Observable>();
  const counters = new Map<string, CounterInstrument>();
  const histograms = new Map<string, HistogramInstrument>();

  function observable(spec: ScrapeSpec): Observable {
    let instrument = observables.get(spec.otel);
    if (instrument === undefined) {
      const options = { description: spec.help, unit: spec.unit };
      instrument =
        spec.kind === 'gauge'
          ? meter.createObservableGauge(spec.otel, options)
          : meter.createObservableCounter(spec.otel, options);
      observables.set(spec.otel, instrument);
    }
    return instrument;
  }

  return {
    counter(spec) {
      let instrument = counters.get(spec.otel);
      if (instrument === undefined) {
        const counter = meter.createCounter(spec.otel, { description: spec.help, unit: spec.unit });
        instrument = {
          add(labels, value = 1) {
            counter.add(value, attributes(labels));
          },
        };
        counters.set(spec.otel, instrument);
      }
      return instrument;
    },
    histogram(spec) {
      let instrument = histograms.get(spec.otel);
      if (instrument === undefined) {
        const histogram = meter.createHistogram(spec.otel, {
          description: spec.help,
          unit: spec.unit,
          advice: { explicitBucketBoundaries: [...buckets[spec.buckets]] },
        });
        instrument = {
          record(labels, value) {
            histogram.record(value, attributes(labels));
          },
        };
        histograms.set(spec.otel, instrument);
      }
      return instrument;
    },
    scrape(readers) {
      const instruments = readers.map((reader) => observable(reader.spec));
      const callback = (result: BatchObservableResult): void => {
        readers.forEach((reader, i) => {
          const instrument = instruments[i] as Observable;
          reader.read((labels, value) => {
            result.observe(instrument, value, attributes(labels));
          });
        });
      };
      meter.addBatchObservableCallback(callback, instruments);
      return function removeReaders(): void {
        meter.removeBatchObservableCallback(callback, instruments);
      };
    },
  };
}
