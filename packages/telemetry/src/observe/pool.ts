import { POOL } from '../catalogue.js';
import type { Emit, Instruments } from '../instruments.js';
import type { Disposer, ObservablePool, PoolEndpointView } from '../sources.js';
import { BREAKER_STATES } from './breaker.js';
import { disposer } from './disposer.js';
import { weakReading } from './weak-reading.js';

type PoolSnapshot = ReturnType<ObservablePool['snapshot']>;

function snapshotOf(pool: ObservablePool): PoolSnapshot {
  return pool.snapshot();
}

function up(e: PoolEndpointView): boolean {
  return e.healthy && !e.ejected && e.breaker !== 'open' && e.breaker !== 'isolated';
}

/**
 * An upstream pool's health, read at collection time from `snapshot()` (endpoints, available,
 * panic, in flight; per endpoint up, healthy, ejected, breaker state, in flight: only the endpoints
 * it has now, so endpoints that left drop out), and its ejections, health changes, panics,
 * discovery errors and breaker changes counted as they happen (per pool, not per endpoint, so
 * endpoints that come and go leave no counters behind).
 */
export function observePool(instruments: Instruments, pool: ObservablePool): Disposer {
  const ejections = instruments.counter(POOL.ejections);
  const healthChanges = instruments.counter(POOL.healthChanges);
  const panics = instruments.counter(POOL.panics);
  const discoveryErrors = instruments.counter(POOL.discoveryErrors);
  const breakerChanges = instruments.counter(POOL.breakerChanges);
  const current = weakReading(pool, snapshotOf, () => {
    remove();
  });
  const whole =
    (value: (s: PoolSnapshot) => number) =>
    (emit: Emit): void => {
      const s = current();
      if (s !== undefined) emit({ pool: s.name }, value(s));
    };
  const endpoints =
    (report: (e: PoolEndpointView, labels: { pool: string; endpoint: string }, emit: Emit) => void) =>
    (emit: Emit): void => {
      const s = current();
      if (s === undefined) return;
      for (const e of s.endpoints) report(e, { pool: s.name, endpoint: e.endpoint.id }, emit);
    };
  const each = (value: (e: PoolEndpointView) => number): ((emit: Emit) => void) =>
    endpoints((e, labels, emit) => {
      emit(labels, value(e));
    });
  const remove = instruments.scrape([
    { spec: POOL.endpoints, read: whole((s) => s.total) },
    { spec: POOL.available, read: whole((s) => s.available) },
    { spec: POOL.panic, read: whole((s) => (s.panic ? 1 : 0)) },
    { spec: POOL.inFlight, read: whole((s) => s.inFlight) },
    { spec: POOL.endpointUp, read: each((e) => (up(e) ? 1 : 0)) },
    { spec: POOL.endpointHealthy, read: each((e) => (e.healthy ? 1 : 0)) },
    { spec: POOL.endpointEjected, read: each((e) => (e.ejected ? 1 : 0)) },
    { spec: POOL.endpointInFlight, read: each((e) => e.inFlight) },
    {
      spec: POOL.endpointBreaker,
      read: endpoints((e, labels, emit) => {
        if (e.breaker === undefined) return;
        for (const state of BREAKER_STATES) emit({ ...labels, state }, e.breaker === state ? 1 : 0);
      }),
    },
  ]);
  const { events } = pool;
  return disposer([
    remove,
    events.on('ejected', (e) => {
      ejections.add({ pool: e.pool, reason: e.reason });
    }),
    events.on('unhealthy', (e) => {
      healthChanges.add({ pool: e.pool, health: 'unhealthy' });
    }),
    events.on('healthy', (e) => {
      healthChanges.add({ pool: e.pool, health: 'healthy' });
    }),
    events.on('panicEntered', (e) => {
      panics.add({ pool: e.pool });
    }),
    events.on('discoveryError', (e) => {
      discoveryErrors.add({ pool: e.pool });
    }),
    events.on('breakerStateChange', (e) => {
      breakerChanges.add({ pool: e.pool, to: e.to });
    }),
  ]);
}
