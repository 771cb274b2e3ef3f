import { isInvalidOptionError } from '@portcullis/core';
import { consecutiveFailures } from '@portcullis/circuit-breaker';
import { ManualClock } from '@portcullis/testkit';
import { afterEach, describe, expect, test } from 'vitest';
import { isInvalidEndpointsError } from '../balancers/errors.js';
import type { DiscoveredEndpoint, DiscoveryListener, DiscoverySource } from './discovery/source.js';
import { isEmptyDiscoveryError } from './errors.js';
import type { EndpointLease, EndpointOutcome } from './lease.js';
import { createUpstreamPool, type UpstreamPool } from './pool.js';
import type { UpstreamPoolOptions } from './pool-options.js';

const OK: EndpointOutcome = { status: 200, durationMs: 1 };
const REFUSED: EndpointOutcome = { failure: 'refused', durationMs: 1 };
const ABORTED: EndpointOutcome = { failure: 'aborted', durationMs: 1 };
const ERROR_500: EndpointOutcome = { status: 500, durationMs: 1 };

const pools: UpstreamPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function endpoints(count: number, weight = 1): DiscoveredEndpoint[] {
  return Array.from({ length: count }, (_, i) => ({ host: '127.0.0.1', port: 10_000 + i, weight }));
}

function pool(options: Partial<UpstreamPoolOptions> = {}): UpstreamPool {
  const created = createUpstreamPool({ name: 'test', balancer: 'round-robin', breaker: false, ...options });
  pools.push(created);
  return created;
}

/** Acquires and completes `count` leases with `outcome`, returning the ids picked. */
function drive(target: UpstreamPool, count: number, outcome: (id: string) => EndpointOutcome = () => OK): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const lease = target.acquire();
    if (lease === undefined) break;
    ids.push(lease.id);
    lease.complete(outcome(lease.id));
  }
  return ids;
}

/** A discovery source the test pushes sets and errors through (the contract, nothing more). */
function manualDiscovery(): DiscoverySource & { listener: DiscoveryListener | undefined; stopped: boolean } {
  const source = {
    listener: undefined as DiscoveryListener | undefined,
    stopped: false,
    subscribe(listener: DiscoveryListener) {
      source.listener = listener;
      return () => {
        source.stopped = true;
      };
    },
  };
  return source;
}

describe('upstream pool: endpoints and updates', () => {
  test('endpoints get ids and origins; IPv6 is bracketed; tls makes https origins', () => {
    const plain = pool({ endpoints: [{ host: '::1', port: 8080, zone: 'a', metadata: { rack: '7' } }] });
    expect(plain.endpoints[0]).toMatchObject({ id: '[::1]:8080', origin: 'http://[::1]:8080', weight: 1, zone: 'a' });
    expect(plain.endpoints[0]?.metadata).toEqual({ rack: '7' });
    const tls = pool({ endpoints: [{ host: 'users.internal', port: 443 }], tls: { servername: 'users.internal' } });
    expect(tls.acquire()?.origin).toBe('https://users.internal:443');
    expect(tls.tls).toEqual({ servername: 'users.internal' });
  });

  test.each([
    [[{ host: 'a b', port: 80 }], 'neither an IP literal nor a DNS name'],
    [[{ host: 'evil.com/x', port: 80 }], 'neither'],
    [[{ host: 'a', port: 0 }], 'port 0'],
    [[{ host: 'a', port: 80.5 }], 'port 80.5'],
    [[{ host: 'a', port: 80, weight: -1 }], 'weight -1'],
    [[{ host: 'a', port: 80, weight: Number.NaN }], 'weight NaN'],
    [
      [
        { host: 'a', port: 80 },
        { host: 'a', port: 80 },
      ],
      'duplicate endpoint a:80',
    ],
    [[{ host: 'a', port: 80, metadata: { x: 1 } }], 'metadata "x"'],
    [[null], 'not an object'],
  ])('an invalid endpoint list is refused with InvalidEndpointsError (%j)', (list, reason) => {
    expect(() => pool({ endpoints: list as DiscoveredEndpoint[] })).toThrow(reason);
    const target = pool({ endpoints: endpoints(2) });
    let error: unknown;
    try {
      target.update(list as DiscoveredEndpoint[]);
    } catch (caught) {
      error = caught;
    }
    expect(isInvalidEndpointsError(error)).toBe(true);
    expect(target.endpoints.map((e) => e.id)).toEqual(['127.0.0.1:10000', '127.0.0.1:10001']);
  });

  test.each([
    [{ name: '' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ balancer: 'fastest' }, 'balancer'],
    [{ balancer: () => ({}) }, 'balancer'],
    [{ panicThresholdPercent: 101 }, 'panicThresholdPercent'],
    [{ endpoints: [], discovery: manualDiscovery() }, 'discovery'],
    [{ discovery: {} }, 'discovery'],
    [{ clock: {} }, 'clock'],
    [{ random: 1 }, 'random'],
    [{ tls: 'yes' }, 'tls'],
    [{ healthCheck: { path: 'health' } }, 'healthCheck.path'],
    [{ healthCheck: { intervalMs: 0 } }, 'healthCheck.intervalMs'],
    [{ healthCheck: { expectedStatuses: [[300, 200]] } }, 'healthCheck.expectedStatuses'],
    [{ healthCheck: { unhealthyThreshold: 0 } }, 'healthCheck.unhealthyThreshold'],
    [{ healthCheck: { method: 'POST' } }, 'healthCheck.method'],
    [{ outlierDetection: { maxEjectionPercent: 120 } }, 'outlierDetection.maxEjectionPercent'],
    [{ outlierDetection: { baseEjectionTimeMs: 10, maxEjectionTimeMs: 5 } }, 'outlierDetection.maxEjectionTimeMs'],
    [{ outlierDetection: { consecutive5xx: 1.5 } }, 'outlierDetection.consecutive5xx'],
    [{ breaker: { halfOpen: { maxProbes: 0 } } }, 'halfOpen.maxProbes'],
    [{ slowStart: { windowMs: -1 } }, 'windowMs'],
  ])('option %j is refused with an InvalidOptionError naming %s', (options, option) => {
    let error: unknown;
    try {
      createUpstreamPool({ name: 'test', ...(options as Partial<UpstreamPoolOptions>) });
    } catch (caught) {
      error = caught;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as { option: string }).option).toBe(option);
  });

  test('a reweight keeps the endpoint and its state; a removed endpoint drains; events say what changed', () => {
    const clock = new ManualClock();
    const target = pool({ endpoints: endpoints(3), clock, outlierDetection: { consecutiveGatewayErrors: 1 } });
    const updates: unknown[] = [];
    target.events.on('endpointsUpdated', (e) => updates.push(e));
    const held: EndpointLease[] = [];
    for (let i = 0; i < 3; i++) held.push(target.acquire()!);
    // Eject :10001, then reweight it: still ejected.
    const lease = target.acquire(undefined, new Set(['127.0.0.1:10000', '127.0.0.1:10002']))!;
    expect(lease.id).toBe('127.0.0.1:10001');
    lease.complete(REFUSED);
    target.update([
      ...endpoints(1),
      { host: '127.0.0.1', port: 10_001, weight: 5 },
      { host: '127.0.0.1', port: 10_003 },
    ]);
    expect(updates).toEqual([
      expect.objectContaining({
        added: ['127.0.0.1:10003'],
        removed: ['127.0.0.1:10002'],
        changed: ['127.0.0.1:10001'],
        total: 3,
      }),
    ]);
    const state = target.snapshot();
    expect(state.endpoints.map((e) => [e.endpoint.id, e.endpoint.weight, e.ejected, e.inFlight])).toEqual([
      ['127.0.0.1:10000', 1, false, 1],
      ['127.0.0.1:10001', 5, true, 1],
      ['127.0.0.1:10003', 1, false, 0],
    ]);
    expect(target.inFlight).toBe(3); // the lease on the removed :10002 still counts
    for (const held1 of held) held1.complete(OK);
    expect(target.inFlight).toBe(0);
    expect(target.snapshot().endpoints.every((e) => e.inFlight === 0)).toBe(true);
    // The same set again changes nothing and says nothing.
    target.update(target.endpoints.map((e) => ({ host: e.host, port: e.port, weight: e.weight })));
    expect(updates).toHaveLength(1);
  });

  test('500 endpoints: updates swap whole sets under leases in flight, and every lease still completes', () => {
    const target = pool({ endpoints: endpoints(500), balancer: 'least-request' });
    const held: EndpointLease[] = [];
    for (let i = 0; i < 1_000; i++) held.push(target.acquire()!);
    expect(new Set(held.map((lease) => lease.id)).size).toBeGreaterThan(400);
    // Replace the whole set by 500 others, then half of it back, with reweights.
    target.update(endpoints(1_000).slice(500));
    for (let i = 0; i < 500; i++) held.push(target.acquire()!);
    expect(held.slice(1_000).every((lease) => Number(lease.id.split(':')[1]) >= 10_500)).toBe(true);
    target.update(endpoints(750, 2).slice(250));
    for (const lease of held) lease.complete(OK);
    expect(target.inFlight).toBe(0);
    expect(target.snapshot().endpoints).toHaveLength(500);
    expect(target.snapshot().endpoints.every((e) => e.inFlight === 0)).toBe(true);
  });

  test('a lease completes once: later calls are ignored', () => {
    const target = pool({ endpoints: endpoints(1) });
    const lease = target.acquire()!;
    lease.complete(OK);
    lease.complete(OK);
    expect(target.inFlight).toBe(0);
    expect(target.snapshot().endpoints[0]?.inFlight).toBe(0);
  });

  test('avoid: picks go elsewhere while another endpoint is available, else to an avoided one', () => {
    const target = pool({ endpoints: endpoints(3), balancer: 'maglev' });
    const first = target.acquire('user-1')!;
    for (let i = 0; i < 20; i++) {
      const retry = target.acquire('user-1', new Set([first.id]))!;
      expect(retry.id).not.toBe(first.id);
      retry.complete(OK);
    }
    const all = new Set(target.endpoints.map((e) => e.id));
    expect(all.has(target.acquire('user-1', all)!.id)).toBe(true);
  });

  test('close: acquire answers undefined, leases handed out still complete, idempotent', async () => {
    const target = pool({ endpoints: endpoints(2) });
    const lease = target.acquire()!;
    await Promise.all([target.close(), target.close()]);
    expect(target.acquire()).toBeUndefined();
    lease.complete(OK);
    expect(target.inFlight).toBe(0);
    target.update(endpoints(3)); // ignored
    expect(target.endpoints).toHaveLength(2);
  });
});

describe('upstream pool: discovery', () => {
  test('follows the source; errors, invalid and empty sets are reported and the last good set stays', async () => {
    const source = manualDiscovery();
    const target = pool({ discovery: source });
    const errors: unknown[] = [];
    target.events.on('discoveryError', (e) => errors.push(e.error));
    expect(target.acquire()).toBeUndefined(); // nothing discovered yet
    source.listener?.update(endpoints(2));
    expect(target.endpoints).toHaveLength(2);
    source.listener?.update([]);
    source.listener?.update([{ host: 'bad host', port: 1 }]);
    source.listener?.error(new Error('dns down'));
    expect(target.endpoints).toHaveLength(2);
    expect(isEmptyDiscoveryError(errors[0])).toBe(true);
    expect(isInvalidEndpointsError(errors[1])).toBe(true);
    expect(errors[2]).toEqual(new Error('dns down'));
    source.listener?.update(endpoints(3));
    expect(drive(target, 3).sort()).toEqual(['127.0.0.1:10000', '127.0.0.1:10001', '127.0.0.1:10002']);
    await target.close();
    expect(source.stopped).toBe(true);
    source.listener?.update(endpoints(1)); // after close: ignored
    expect(target.endpoints).toHaveLength(3);
  });

  test('a source that reports synchronously on subscribe seeds the pool', () => {
    const target = pool({
      discovery: {
        subscribe(listener) {
          listener.update(endpoints(2));
          return () => undefined;
        },
      },
    });
    expect(target.endpoints).toHaveLength(2);
  });
});

describe('upstream pool: outlier detection', () => {
  test('3 gateway errors in a row eject; traffic moves; the ejection ends after base × ejections, capped', () => {
    const clock = new ManualClock();
    const target = pool({
      endpoints: endpoints(3),
      clock,
      outlierDetection: { consecutiveGatewayErrors: 3, baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 25_000 },
    });
    const events: string[] = [];
    target.events.on('ejected', (e) =>
      events.push(`ejected ${e.endpoint.id} ${e.reason} x${String(e.ejections)} ${String(e.until - clock.now())}`),
    );
    target.events.on('restored', (e) => events.push(`restored ${e.endpoint.id} ${e.reason}`));
    const bad = '127.0.0.1:10001';
    const fail = (id: string): EndpointOutcome => (id === bad ? REFUSED : OK);
    drive(target, 9, fail); // three rounds: three refusals in a row on :10001
    expect(events).toEqual([`ejected ${bad} consecutive-gateway-errors x1 10000`]);
    expect(drive(target, 30, fail)).not.toContain(bad);
    clock.advance(10_000);
    expect(drive(target, 3, fail)).toContain(bad); // back, and failing again
    expect(events.at(1)).toBe(`restored ${bad} elapsed`);
    drive(target, 6, fail);
    expect(events.at(2)).toBe(`ejected ${bad} consecutive-gateway-errors x2 20000`);
    clock.advance(20_000);
    drive(target, 9, fail);
    expect(events.at(4)).toBe(`ejected ${bad} consecutive-gateway-errors x3 25000`); // capped
  });

  test('the count of ejections in a row decays while the endpoint stays in', () => {
    const clock = new ManualClock();
    const target = pool({
      endpoints: endpoints(2),
      clock,
      outlierDetection: { consecutiveGatewayErrors: 1, baseEjectionTimeMs: 1_000 },
    });
    const ejections: number[] = [];
    target.events.on('ejected', (e) => ejections.push(e.ejections));
    const failFirst = (id: string): EndpointOutcome => (id === '127.0.0.1:10000' ? REFUSED : OK);
    drive(target, 2, failFirst);
    clock.advance(1_000);
    drive(target, 2, failFirst); // restored and ejected again at once: 2 in a row
    clock.advance(2_000);
    clock.advance(2_000); // back for 2 s = 2 base times: the count drops by 2
    drive(target, 2, failFirst);
    expect(ejections).toEqual([1, 2, 1]);
  });

  test('5xx runs eject; a response below 500 ends a run; aborts neither count nor end it', () => {
    const target = pool({
      endpoints: endpoints(1).concat({ host: '127.0.0.1', port: 20_000 }),
      outlierDetection: { consecutive5xx: 3 },
    });
    const ejected: string[] = [];
    target.events.on('ejected', (e) => ejected.push(e.reason));
    const on = (id: string, outcome: EndpointOutcome): void => {
      const lease = target.acquire(undefined, new Set(target.endpoints.map((e) => e.id).filter((x) => x !== id)))!;
      expect(lease.id).toBe(id);
      lease.complete(outcome);
    };
    const id = '127.0.0.1:10000';
    on(id, ERROR_500);
    on(id, ERROR_500);
    on(id, { status: 404, durationMs: 1 });
    on(id, ERROR_500);
    on(id, ABORTED);
    on(id, ABORTED);
    on(id, ERROR_500);
    expect(ejected).toEqual([]);
    on(id, { failure: 'other', durationMs: 1 });
    expect(ejected).toEqual(['consecutive-5xx']);
  });

  test('never ejects beyond maxEjectionPercent, nor the last endpoint', () => {
    const target = pool({
      endpoints: endpoints(4),
      outlierDetection: { consecutiveGatewayErrors: 1, maxEjectionPercent: 50 },
    });
    drive(target, 40, () => REFUSED);
    expect(target.snapshot().endpoints.filter((e) => e.ejected)).toHaveLength(2);
    const single = pool({
      endpoints: endpoints(1),
      outlierDetection: { consecutiveGatewayErrors: 1, maxEjectionPercent: 100 },
    });
    drive(single, 10, () => REFUSED);
    expect(single.snapshot().endpoints[0]?.ejected).toBe(false);
    expect(single.acquire()).toBeDefined();
  });

  test('a shrinking set brings ejected endpoints back until the cap holds', () => {
    const target = pool({
      endpoints: endpoints(4),
      outlierDetection: { consecutiveGatewayErrors: 1, maxEjectionPercent: 50 },
    });
    const restored: string[] = [];
    target.events.on('restored', (e) => restored.push(`${e.endpoint.id} ${e.reason}`));
    drive(target, 2, () => REFUSED); // :10000 and :10001 ejected (round robin)
    const ejected = target
      .snapshot()
      .endpoints.filter((e) => e.ejected)
      .map((e) => e.endpoint.id);
    expect(ejected).toHaveLength(2);
    target.update(endpoints(4).filter((e) => ejected.includes(`127.0.0.1:${String(e.port)}`)));
    expect(target.snapshot().endpoints.filter((e) => e.ejected)).toHaveLength(1);
    expect(restored).toHaveLength(1);
    expect(restored[0]).toMatch(/ cap$/);
  });
});

describe('upstream pool: panic threshold', () => {
  test('below the threshold picks go to every endpoint; events on entering and leaving', () => {
    const clock = new ManualClock();
    const target = pool({
      endpoints: endpoints(4),
      clock,
      panicThresholdPercent: 75,
      outlierDetection: { consecutiveGatewayErrors: 1, maxEjectionPercent: 50, baseEjectionTimeMs: 1_000 },
    });
    const events: string[] = [];
    target.events.on('panicEntered', (e) => events.push(`entered ${String(e.available)}/${String(e.total)}`));
    target.events.on('panicLeft', (e) => events.push(`left ${String(e.available)}/${String(e.total)}`));
    drive(target, 1, () => REFUSED); // 3 of 4 available: 75 %, no panic
    expect(target.panic).toBe(false);
    expect(new Set(drive(target, 12)).size).toBe(3);
    drive(target, 1, () => REFUSED); // 2 of 4: panic
    expect(target.panic).toBe(true);
    expect(new Set(drive(target, 12)).size).toBe(4); // ejected ones included
    clock.advance(1_000);
    drive(target, 1);
    expect(events).toEqual(['entered 2/4', 'left 4/4']);
  });

  test('threshold 0 never panics: with nothing available, no lease', () => {
    const target = pool({
      endpoints: endpoints(2),
      panicThresholdPercent: 0,
      breaker: { trip: consecutiveFailures(1) },
    });
    drive(target, 2, () => ERROR_500);
    expect(target.acquire()).toBeUndefined();
  });
});

describe('upstream pool: a breaker per endpoint', () => {
  test('an open breaker takes its endpoint out of picks; half-open lets one probe through; success closes', () => {
    const clock = new ManualClock();
    const target = pool({
      endpoints: endpoints(2),
      clock,
      outlierDetection: false,
      breaker: { trip: consecutiveFailures(2), openDuration: 5_000 },
    });
    const changes: string[] = [];
    target.events.on('breakerStateChange', (e) => changes.push(`${e.endpoint.id} ${e.from}→${e.to} ${e.reason}`));
    const bad = '127.0.0.1:10000';
    drive(target, 4, (id) => (id === bad ? ERROR_500 : OK));
    expect(changes).toEqual([`${bad} closed→open tripped`]);
    expect(drive(target, 10)).not.toContain(bad);
    expect(target.snapshot().endpoints[0]).toMatchObject({ breaker: 'open', effectiveWeight: 0 });
    clock.advance(5_000);
    // Half-open: one lease at a time on the bad endpoint (the probe); others go elsewhere.
    const held: EndpointLease[] = [];
    for (let i = 0; i < 10; i++) held.push(target.acquire()!);
    expect(held.filter((lease) => lease.id === bad)).toHaveLength(1);
    expect(changes.at(-1)).toBe(`${bad} open→half-open open-elapsed`);
    for (const lease of held) lease.complete(OK);
    expect(changes.at(-1)).toBe(`${bad} half-open→closed probes-succeeded`);
    expect(drive(target, 4)).toContain(bad);
  });

  test('a failed probe opens the breaker again; aborts count for nothing', () => {
    const clock = new ManualClock();
    const target = pool({
      endpoints: endpoints(1),
      clock,
      outlierDetection: false,
      breaker: { trip: consecutiveFailures(1), openDuration: 1_000 },
    });
    drive(target, 1, () => ABORTED);
    expect(target.snapshot().endpoints[0]?.breaker).toBe('closed');
    drive(target, 1, () => REFUSED);
    expect(target.acquire()).toBeUndefined();
    clock.advance(1_000);
    drive(target, 1, () => REFUSED);
    expect(target.snapshot().endpoints[0]?.breaker).toBe('open');
  });
});

describe('upstream pool: slow start', () => {
  test('an endpoint added later ramps up; those of the first set do not', () => {
    const clock = new ManualClock();
    const target = pool({
      endpoints: endpoints(1, 10),
      clock,
      balancer: 'weighted-round-robin',
      slowStart: { windowMs: 10_000 },
    });
    target.update([...endpoints(1, 10), { host: '127.0.0.1', port: 20_000, weight: 10 }]);
    const share = (): number => drive(target, 1_100).filter((id) => id === '127.0.0.1:20000').length / 1_100;
    expect(target.snapshot().endpoints.map((e) => e.effectiveWeight)).toEqual([10, 1]);
    expect(share()).toBeCloseTo(1 / 11, 2);
    clock.advance(5_000);
    expect(share()).toBeCloseTo(5 / 15, 2);
    clock.advance(5_000);
    expect(share()).toBeCloseTo(0.5, 2);
    expect(target.snapshot().endpoints.map((e) => e.effectiveWeight)).toEqual([10, 10]);
  });
});
