import type { Labels } from '../instruments.js';

/** One level of the index: a label's values, each to the next level or, at the last label, a series. */
type Level<S> = Map<string, Level<S> | S>;

/**
 * The series of one metric by their label values, found with one `Map` lookup per label and no
 * string built per observation (prom-client hashes and validates the label object on every
 * `inc`/`observe`: that was most of the cost of a request's metrics). Series are kept in the order
 * they were first seen, which is the order prom-client exports them in. The values come from
 * configuration or closed sets (see the observers), so the number of series stays bounded.
 */
export class SeriesIndex<S> {
  /** Every series, in the order first seen. */
  readonly all: S[] = [];
  readonly #names: readonly string[];
  readonly #create: (labels: Labels) => S;
  readonly #root: Level<S> = new Map();
  /** A metric without labels: its one series, once it exists. */
  #only: S | undefined;

  /**
   * @param names - The metric's label names: every observation gives a value for each.
   * @param create - A new series, given a copy of its labels (in the order the first observation
   *   listed them: prom-client prints them in that order).
   */
  constructor(names: readonly string[], create: (labels: Labels) => S) {
    this.#names = names;
    this.#create = create;
    if (names.length === 0) {
      // prom-client shows a metric without labels from its creation, at zero.
      this.#only = create({});
      this.all.push(this.#only);
    }
  }

  /** Forgets every series (a registry's `resetMetrics()`). */
  clear(): void {
    this.#root.clear();
    this.all.length = 0;
    // prom-client's reset drops even the series of a metric without labels, until it is observed.
    this.#only = undefined;
  }

  /** The series of these label values, created on first use. */
  get(labels: Labels): S {
    if (this.#only !== undefined) return this.#only;
    const names = this.#names;
    if (names.length === 0) {
      this.#only = this.#create({});
      this.all.push(this.#only);
      return this.#only;
    }
    const last = names.length - 1;
    let level = this.#root;
    for (let i = 0; i < last; i++) {
      const value = labels[names[i] as string] as string;
      let next = level.get(value) as Level<S> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const value = labels[names[last] as string] as string;
    let series = level.get(value) as S | undefined;
    if (series === undefined) {
      for (const name in labels) {
        // As prom-client does, once per series rather than per observation.
        if (!names.includes(name)) throw new Error(`Added label "${name}" is not included in initial labelset`);
      }
      series = this.#create({ ...labels });
      level.set(value, series);
      this.all.push(series);
    }
    return series;
  }
}
