import type { CounterSpec, HistogramSpec, ScrapeSpec } from './instruments.js';

// Every metric the observers report, in one place: the Prometheus and OpenTelemetry names, the
// help text and the labels. Every label's values come from configuration (limiter, pool, endpoint,
// route, loader, source names) or from a closed set (result, state, reason): never from a request.

function counter(name: string, otel: string, help: string, labels: readonly string[], unit: string): CounterSpec {
  return { kind: 'counter', name, otel, help, labels, unit };
}

function histogram(
  name: string,
  otel: string,
  help: string,
  labels: readonly string[],
  buckets: 'seconds' | 'sizes',
): HistogramSpec {
  return { kind: 'histogram', name, otel, help, labels, unit: buckets === 'seconds' ? 's' : '{key}', buckets };
}

function gauge(name: string, otel: string, help: string, labels: readonly string[], unit: string): ScrapeSpec {
  return { kind: 'gauge', name, otel, help, labels, unit };
}

function observedCounter(
  name: string,
  otel: string,
  help: string,
  labels: readonly string[],
  unit: string,
): ScrapeSpec {
  return { kind: 'observed-counter', name, otel, help, labels, unit };
}

export const LIMITER: {
  readonly decisions: CounterSpec;
  readonly storeErrors: CounterSpec;
} = {
  decisions: counter(
    'ratelimit_decisions_total',
    'portcullis.ratelimit.decisions',
    'Rate-limit decisions, by result (allowed or denied), source (store, deny-cache, fallback, fail-open, fail-closed) and the limit that denied.',
    ['limiter', 'result', 'source', 'limited_by'],
    '{decision}',
  ),
  storeErrors: counter(
    'ratelimit_store_errors_total',
    'portcullis.ratelimit.store_errors',
    'Rate-limit store failures and timeouts, by what decided instead.',
    ['limiter', 'source'],
    '{error}',
  ),
};

export const BREAKER: {
  readonly state: ScrapeSpec;
  readonly calls: ScrapeSpec;
  readonly unhealthySince: ScrapeSpec;
  readonly transitions: CounterSpec;
} = {
  state: gauge(
    'breaker_state',
    'portcullis.breaker.state',
    'Circuit breaker state: 1 for the current state (closed, open, half-open, isolated), 0 for the others.',
    ['breaker', 'state'],
    '1',
  ),
  calls: observedCounter(
    'breaker_calls_total',
    'portcullis.breaker.calls',
    'Calls through a circuit breaker, by outcome (success, failure, ignored, rejected).',
    ['breaker', 'outcome'],
    '{call}',
  ),
  unhealthySince: gauge(
    'breaker_unhealthy_since_seconds',
    'portcullis.breaker.unhealthy_since',
    'When the breaker last left closed, on its clock in seconds (the Unix time with the default clock); absent while closed.',
    ['breaker'],
    's',
  ),
  transitions: counter(
    'breaker_transitions_total',
    'portcullis.breaker.transitions',
    'Circuit breaker state changes.',
    ['breaker', 'from', 'to'],
    '{transition}',
  ),
};

export const POOL: {
  readonly endpoints: ScrapeSpec;
  readonly available: ScrapeSpec;
  readonly panic: ScrapeSpec;
  readonly inFlight: ScrapeSpec;
  readonly endpointUp: ScrapeSpec;
  readonly endpointHealthy: ScrapeSpec;
  readonly endpointEjected: ScrapeSpec;
  readonly endpointBreaker: ScrapeSpec;
  readonly endpointInFlight: ScrapeSpec;
  readonly ejections: CounterSpec;
  readonly healthChanges: CounterSpec;
  readonly panics: CounterSpec;
  readonly discoveryErrors: CounterSpec;
  readonly breakerChanges: CounterSpec;
} = {
  endpoints: gauge(
    'pool_endpoints',
    'portcullis.pool.endpoints',
    'Endpoints of an upstream pool with a weight above 0.',
    ['pool'],
    '{endpoint}',
  ),
  available: gauge(
    'pool_available_endpoints',
    'portcullis.pool.available_endpoints',
    'Endpoints of an upstream pool that can be picked: healthy, not ejected, breaker not open.',
    ['pool'],
    '{endpoint}',
  ),
  panic: gauge(
    'pool_panic',
    'portcullis.pool.panic',
    '1 while the pool panics (too few endpoints available: picks go to all).',
    ['pool'],
    '1',
  ),
  inFlight: gauge(
    'pool_in_flight',
    'portcullis.pool.in_flight',
    'Requests in flight to the pool.',
    ['pool'],
    '{request}',
  ),
  endpointUp: gauge(
    'pool_endpoint_up',
    'portcullis.pool.endpoint.up',
    '1 when the endpoint is healthy, not ejected and its breaker neither open nor isolated.',
    ['pool', 'endpoint'],
    '1',
  ),
  endpointHealthy: gauge(
    'pool_endpoint_healthy',
    'portcullis.pool.endpoint.healthy',
    "The active health checks' verdict on the endpoint (1 without active checks).",
    ['pool', 'endpoint'],
    '1',
  ),
  endpointEjected: gauge(
    'pool_endpoint_ejected',
    'portcullis.pool.endpoint.ejected',
    '1 while outlier detection keeps the endpoint out.',
    ['pool', 'endpoint'],
    '1',
  ),
  endpointBreaker: gauge(
    'pool_endpoint_breaker_state',
    'portcullis.pool.endpoint.breaker_state',
    "The endpoint's breaker: 1 for its current state, 0 for the others (no series without breakers).",
    ['pool', 'endpoint', 'state'],
    '1',
  ),
  endpointInFlight: gauge(
    'pool_endpoint_in_flight',
    'portcullis.pool.endpoint.in_flight',
    'Requests in flight to the endpoint.',
    ['pool', 'endpoint'],
    '{request}',
  ),
  ejections: counter(
    'pool_ejections_total',
    'portcullis.pool.ejections',
    'Endpoints ejected by outlier detection, by reason.',
    ['pool', 'reason'],
    '{ejection}',
  ),
  healthChanges: counter(
    'pool_health_changes_total',
    'portcullis.pool.health_changes',
    'Endpoints the active checks marked healthy or unhealthy.',
    ['pool', 'health'],
    '{change}',
  ),
  panics: counter('pool_panics_total', 'portcullis.pool.panics', 'Times the pool entered panic.', ['pool'], '{panic}'),
  discoveryErrors: counter(
    'pool_discovery_errors_total',
    'portcullis.pool.discovery_errors',
    'Discovery failures (the last good endpoint set stayed).',
    ['pool'],
    '{error}',
  ),
  breakerChanges: counter(
    'pool_breaker_changes_total',
    'portcullis.pool.breaker_changes',
    "State changes of the endpoints' breakers, by the state entered.",
    ['pool', 'to'],
    '{transition}',
  ),
};

export const CANARY: {
  readonly weight: ScrapeSpec;
  readonly phase: ScrapeSpec;
  readonly failedChecks: ScrapeSpec;
  readonly decisions: CounterSpec;
} = {
  weight: gauge(
    'canary_weight_ratio',
    'portcullis.canary.weight',
    "The canary's share of traffic, 0 to 1.",
    ['canary'],
    '1',
  ),
  phase: gauge(
    'canary_phase',
    'portcullis.canary.phase',
    'The release phase: 1 for the current one (progressing, paused, promoted, rolled-back), 0 for the others.',
    ['canary', 'phase'],
    '1',
  ),
  failedChecks: gauge(
    'canary_failed_checks',
    'portcullis.canary.failed_checks',
    'Failed analysis intervals so far (the rollback threshold counts these).',
    ['canary'],
    '{interval}',
  ),
  decisions: counter(
    'canary_decisions_total',
    'portcullis.canary.decisions',
    'Canary decisions, by action (promote, complete, hold, fail, rollback, …) and trigger (schedule, manual).',
    ['canary', 'action', 'trigger'],
    '{decision}',
  ),
};

export const LOADER: {
  readonly batches: CounterSpec;
  readonly batchSize: HistogramSpec;
  readonly batchDuration: HistogramSpec;
  readonly batchWait: HistogramSpec;
  readonly cacheHits: CounterSpec;
  readonly failedKeys: CounterSpec;
  readonly budgetExceeded: CounterSpec;
  readonly abortedKeys: CounterSpec;
} = {
  batches: counter(
    'loader_batches_total',
    'portcullis.loader.batches',
    'Batches, by outcome (loaded, failed, invalid, timeout, aborted, refused).',
    ['loader', 'outcome'],
    '{batch}',
  ),
  batchSize: histogram('loader_batch_size', 'portcullis.loader.batch.size', 'Keys per batch.', ['loader'], 'sizes'),
  batchDuration: histogram(
    'loader_batch_duration_seconds',
    'portcullis.loader.batch.duration',
    'Time the batch function took (0 when it never ran).',
    ['loader'],
    'seconds',
  ),
  batchWait: histogram(
    'loader_batch_wait_seconds',
    'portcullis.loader.batch.wait',
    "Time from a batch's first key to the batch function's call (scheduling and queue).",
    ['loader'],
    'seconds',
  ),
  cacheHits: counter(
    'loader_cache_hits_total',
    'portcullis.loader.cache_hits',
    'Cache hits answered with the batches.',
    ['loader'],
    '{key}',
  ),
  failedKeys: counter(
    'loader_failed_keys_total',
    'portcullis.loader.failed_keys',
    'Keys of batches that got an error.',
    ['loader'],
    '{key}',
  ),
  budgetExceeded: counter(
    'loader_budget_exceeded_total',
    'portcullis.loader.budget_exceeded',
    'Key budgets exceeded (once per budget and loader), by budget (loader, request).',
    ['loader', 'budget'],
    '{budget}',
  ),
  abortedKeys: counter(
    'loader_aborted_keys_total',
    'portcullis.loader.aborted_keys',
    "Keys that failed because the loader's signal aborted.",
    ['loader'],
    '{key}',
  ),
};

export const FORWARD: {
  readonly attempts: CounterSpec;
  readonly duration: HistogramSpec;
} = {
  attempts: counter(
    'forward_attempts_total',
    'portcullis.forward.attempts',
    'Forwarding attempts, by endpoint, result (status class, or refused, reset, timeout, aborted, other) and whether it was a retry.',
    ['endpoint', 'result', 'retry'],
    '{attempt}',
  ),
  duration: histogram(
    'forward_attempt_duration_seconds',
    'portcullis.forward.attempt.duration',
    'Time from the pick of an endpoint to the end of the exchange.',
    ['endpoint'],
    'seconds',
  ),
};

export const JWT: {
  readonly fetches: CounterSpec;
  readonly fetchDuration: HistogramSpec;
  readonly stale: CounterSpec;
  readonly kidMisses: CounterSpec;
  readonly rotations: CounterSpec;
  readonly revocations: CounterSpec;
  readonly failures: CounterSpec;
} = {
  fetches: counter(
    'jwks_fetches_total',
    'portcullis.jwks.fetches',
    'JWKS fetches, by source, reason (initial, scheduled, expired, kid_miss, manual) and result (ok, error).',
    ['source', 'reason', 'result'],
    '{fetch}',
  ),
  fetchDuration: histogram(
    'jwks_fetch_duration_seconds',
    'portcullis.jwks.fetch.duration',
    'JWKS fetch time.',
    ['source'],
    'seconds',
  ),
  stale: counter(
    'jwks_stale_served_total',
    'portcullis.jwks.stale_served',
    'Failed fetches after which the last good keys kept being served.',
    ['source'],
    '{fetch}',
  ),
  kidMisses: counter(
    'jwks_kid_misses_total',
    'portcullis.jwks.kid_misses',
    'Tokens naming a key the set lacks, by whether a refetch was allowed.',
    ['source', 'refetched'],
    '{token}',
  ),
  rotations: counter('jwks_rotations_total', 'portcullis.jwks.rotations', 'Key set changes.', ['source'], '{rotation}'),
  revocations: counter('jwks_revocations_total', 'portcullis.jwks.revocations', 'Keys revoked.', ['source'], '{key}'),
  failures: counter(
    'jwt_failures_total',
    'portcullis.jwt.failures',
    'Failed verifications, by reason.',
    ['reason'],
    '{token}',
  ),
};

/** The HTTP request histogram of the Prometheus backend (OpenTelemetry uses `http.server.request.duration`). */
export const HTTP_REQUESTS: HistogramSpec = histogram(
  'http_request_duration_seconds',
  'http.server.request.duration',
  'HTTP requests through the gateway: method, route name (never the raw path), status class, duration.',
  ['method', 'route', 'status_class'],
  'seconds',
);

/** Default histogram boundaries: gateway latencies in seconds (1 ms to 10 s), and batch sizes. */
export const DEFAULT_BUCKETS: { readonly seconds: readonly number[]; readonly sizes: readonly number[] } = {
  seconds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  sizes: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
};
