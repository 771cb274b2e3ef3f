// The seam between what is measured (the observers, written once) and where it goes (prom-client
// or the OpenTelemetry Meter API). Internal: not exported from the package's entry points.

/** Label (attribute) values by label name; every value comes from configuration or a closed set. */
export type Labels = Readonly<Record<string, string>>;

/** What every metric declares. */
export interface MetricSpec {
  /** The Prometheus name, less the prefix (`ratelimit_decisions_total`). */
  readonly name: string;
  /** The OpenTelemetry instrument name (`portcullis.ratelimit.decisions`). */
  readonly otel: string;
  readonly help: string;
  /** The label names, in Prometheus form (OpenTelemetry attributes are `portcullis.` + the name). */
  readonly labels: readonly string[];
  /** The OpenTelemetry unit (UCUM): `s`, `{request}`… */
  readonly unit: string;
}

/** A counter incremented per event. */
export interface CounterSpec extends MetricSpec {
  readonly kind: 'counter';
}

/** A histogram fed per event. */
export interface HistogramSpec extends MetricSpec {
  readonly kind: 'histogram';
  /** Which default boundaries: durations in seconds, or batch sizes. */
  readonly buckets: 'seconds' | 'sizes';
}

/** A value read when metrics are collected (a scrape): a gauge, or a counter kept by the source. */
export interface ScrapeSpec extends MetricSpec {
  readonly kind: 'gauge' | 'observed-counter';
}

/** Adds to a counter. */
export interface CounterInstrument {
  add(labels: Labels, value?: number): void;
}

/** Records a value in a histogram. */
export interface HistogramInstrument {
  record(labels: Labels, value: number): void;
}

/** Reports one series' value during a collection. */
export type Emit = (labels: Labels, value: number) => void;

/** Reads one scrape-time metric: calls `emit` once per series it has now. */
export interface ScrapeReader {
  readonly spec: ScrapeSpec;
  read(emit: Emit): void;
}

/** A metrics backend. */
export interface Instruments {
  counter(spec: CounterSpec): CounterInstrument;
  histogram(spec: HistogramSpec): HistogramInstrument;
  /** Registers readers called at every collection; returns their removal. */
  scrape(readers: readonly ScrapeReader[]): () => void;
}
