// Reads Prometheus's text exposition format, as prom-client writes it, into samples, so tests
// assert values rather than snapshots of text. Hand-written (30 lines) because the one parser on
// the registry, parse-prometheus-text-format, is untyped and unmaintained since 2019.

/**
 * One sample line of a scrape: `name{label="value",…} value`.
 *
 * @example
 * ```ts
 * const sample: Sample = { name: 'http_requests_total', labels: { route: 'users' }, value: 3 };
 * ```
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_match, c: string) => (c === 'n' ? '\n' : c));
}

function number(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * Every sample of a scrape; throws on a line that is neither a sample, a comment nor blank.
 *
 * @example
 * ```ts
 * parsePrometheusText('# TYPE up gauge\nup{job="api"} 1\n'); // [{ name: 'up', labels: { job: 'api' }, value: 1 }]
 * ```
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const [, name = '', body = '', value = ''] = match;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    let consumed = 0;
    for (let label = LABEL.exec(body); label !== null; label = LABEL.exec(body)) {
      labels[label[1] as string] = unescape(label[2] as string);
      consumed = LABEL.lastIndex;
    }
    if (consumed !== body.length) throw new Error(`unreadable labels: ${line}`);
    samples.push({ name, labels, value: number(value) });
  }
  return samples;
}

/**
 * The samples of `name` whose labels include `labels` (every one given, equal).
 *
 * @example
 * ```ts
 * const perRoute = samplesOf(samples, 'http_requests_total', { status: '200' });
 * ```
 */
export function samplesOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
}

/**
 * The value of the one sample of `name` with exactly `labels`; `undefined` when there is none
 * (throws when several match).
 *
 * @example
 * ```ts
 * valueOf(samples, 'up', { job: 'api' }); // 1
 * ```
 */
export function valueOf(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const keys = Object.keys(labels);
  const found = samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === keys.length &&
      keys.every((key) => s.labels[key] === labels[key]),
  );
  if (found.length > 1) throw new Error(`${String(found.length)} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/**
 * Scrapes a registry (prom-client's, or anything whose `metrics()` answers the text format) and
 * parses it.
 *
 * @example
 * ```ts
 * const samples = await scrape({ metrics: async () => (await fetch(`${base}/metrics`)).text() });
 * ```
 */
export async function scrape(registry: { metrics(): Promise<string> }): Promise<Sample[]> {
  return parsePrometheusText(await registry.metrics());
}
