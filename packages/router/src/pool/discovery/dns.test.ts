import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { ManualClock, startDnsServer } from '@portcullis/testkit';
import type { DnsRecord, DnsServer } from '@portcullis/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, vi } from 'vitest';
import { recordingListener, untilTimers } from '../../../test/fixtures/recording-listener.js';
import type { DiscoveryEvent } from '../../../test/fixtures/recording-listener.js';
import { dnsDiscovery } from './dns.js';
import type { DnsDiscoveryOptions } from './dns.js';
import { isDiscoveryError } from './errors.js';
import type { DiscoveredEndpoint } from './source.js';

let dns: DnsServer;

beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(async () => {
  await dns.close();
});
beforeEach(() => {
  dns.setZone({});
  dns.behave({ kind: 'answer' });
  // Only the sources' timers are fake; sockets (and the DNS server) run on real time.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function source(options: Omit<DnsDiscoveryOptions, 'servers'>) {
  return dnsDiscovery({ servers: [dns.address], timeoutMs: 200, tries: 1, ...options });
}

const a = (address: string, ttl = 60): DnsRecord => ({ type: 'A', address, ttl });
const aaaa = (address: string, ttl = 60): DnsRecord => ({ type: 'AAAA', address, ttl });

function updateOf(event: DiscoveryEvent): readonly DiscoveredEndpoint[] {
  if (event.type !== 'update') throw new Error(`expected an update, got ${String(event.error)}`);
  return event.endpoints;
}

function errorOf(event: DiscoveryEvent) {
  if (event.type !== 'error') throw new Error(`expected an error, got an update of ${String(event.endpoints.length)}`);
  if (!isDiscoveryError(event.error)) throw new Error('expected a DiscoveryError');
  return event.error;
}

/** Fires the source's timer after exactly `ms`: not one ms before. */
function fireAfter(ms: number): void {
  vi.advanceTimersByTime(ms - 1);
  expect(vi.getTimerCount()).toBe(1);
  vi.advanceTimersByTime(1);
  expect(vi.getTimerCount()).toBe(0);
}

describe('dnsDiscovery: A and AAAA', () => {
  test('A: every address with the given port, sorted, and the first set as soon as it is known', async () => {
    dns.setRecords('api.internal', [a('10.0.0.2'), a('10.0.0.1'), a('10.0.0.1')]);
    const recorder = recordingListener();
    const stop = source({ name: 'api.internal', port: 8080 }).subscribe(recorder.listener);
    expect(updateOf(await recorder.next())).toEqual([
      { host: '10.0.0.1', port: 8080 },
      { host: '10.0.0.2', port: 8080 },
    ]);
    expect(dns.queries.at(-1)).toMatchObject({ name: 'api.internal', type: 'A' });
    stop();
  });

  test('AAAA: IPv6 literals without brackets, zone and metadata given to each', async () => {
    dns.setRecords('api.internal', [aaaa('fd00::2'), aaaa('fd00::1')]);
    const recorder = recordingListener();
    const stop = source({
      name: 'api.internal',
      type: 'AAAA',
      port: 443,
      zone: 'z1',
      metadata: { tier: 'gold' },
    }).subscribe(recorder.listener);
    expect(updateOf(await recorder.next())).toEqual([
      { host: 'fd00::1', port: 443, zone: 'z1', metadata: { tier: 'gold' } },
      { host: 'fd00::2', port: 443, zone: 'z1', metadata: { tier: 'gold' } },
    ]);
    stop();
  });

  test('A+AAAA: both families merged; a name with only one family is fine', async () => {
    dns.setRecords('dual.internal', [a('10.0.0.1'), aaaa('fd00::1')]);
    dns.setRecords('v4.internal', [a('10.0.0.9')]);
    const dual = recordingListener();
    const v4 = recordingListener();
    const stops = [
      source({ name: 'dual.internal', type: 'A+AAAA', port: 80 }).subscribe(dual.listener),
      source({ name: 'v4.internal', type: 'A+AAAA', port: 80 }).subscribe(v4.listener),
    ];
    expect(updateOf(await dual.next()).map((e) => e.host)).toEqual(['10.0.0.1', 'fd00::1']);
    expect(updateOf(await v4.next()).map((e) => e.host)).toEqual(['10.0.0.9']);
    for (const stop of stops) stop();
  });

  test('A+AAAA: one family failing (not missing) fails the refresh, so half the set is never dropped', async () => {
    dns.setRecords('dual.internal', [a('10.0.0.1'), aaaa('fd00::1')]);
    const recorder = recordingListener();
    const stop = source({ name: 'dual.internal', type: 'A+AAAA', port: 80, refreshOnErrorMs: 1_000 }).subscribe(
      recorder.listener,
    );
    expect(updateOf(await recorder.next())).toHaveLength(2);
    dns.behave({ kind: 'servfail', type: 'AAAA' });
    vi.advanceTimersByTime(60_000);
    const error = errorOf(await recorder.next());
    expect(error.failure).toBe('lookup-failed');
    expect(error.dnsCode).toBe('ESERVFAIL');
    stop();
  });

  test('an answer of 300 addresses (too big for UDP, fetched over TCP) is taken whole', async () => {
    const addresses = Array.from({ length: 300 }, (_, i) => `10.3.${String(i >> 8)}.${String(i & 255)}`);
    dns.setRecords(
      'big.internal',
      addresses.map((address) => a(address)),
    );
    const recorder = recordingListener();
    const stop = source({ name: 'big.internal', port: 80 }).subscribe(recorder.listener);
    expect(new Set(updateOf(await recorder.next()).map((e) => e.host))).toEqual(new Set(addresses));
    expect(dns.queries.at(-1)?.transport).toBe('tcp');
    stop();
  });
});

describe('dnsDiscovery: TTL-driven re-resolution', () => {
  test('re-resolves when the smallest TTL of the answer runs out, and not before', async () => {
    dns.setRecords('api.internal', [a('10.0.0.1', 9), a('10.0.0.2', 7)]);
    const recorder = recordingListener();
    const stop = source({ name: 'api.internal', port: 80 }).subscribe(recorder.listener);
    updateOf(await recorder.next());
    await untilTimers(1);
    const queries = dns.queryCount;
    dns.setRecords('api.internal', [a('10.0.0.3', 30)]);
    fireAfter(7_000);
    await dns.waitForQueries(queries + 1);
    expect(updateOf(await recorder.next())).toEqual([{ host: '10.0.0.3', port: 80 }]);
    // The new answer's TTL (30 s) paces the next refresh.
    await untilTimers(1);
    fireAfter(30_000);
    await dns.waitForQueries(queries + 2);
    stop();
  });

  test.each([
    ['a TTL of 0 waits minTtlMs', 0, 2_000],
    ['a TTL of a day waits maxTtlMs', 86_400, 10_000],
    ['a TTL in between is taken as it is', 5, 5_000],
  ])('%s', async (_title, ttl, expectedMs) => {
    dns.setRecords('api.internal', [a('10.0.0.1', ttl)]);
    const recorder = recordingListener();
    const stop = source({ name: 'api.internal', port: 80, minTtlMs: 2_000, maxTtlMs: 10_000 }).subscribe(
      recorder.listener,
    );
    updateOf(await recorder.next());
    await untilTimers(1);
    const queries = dns.queryCount;
    fireAfter(expectedMs);
    await dns.waitForQueries(queries + 1);
    stop();
  });

  test('a changed record set gives exactly one update; the same set again (reordered) gives none', async () => {
    dns.setRecords('api.internal', [a('10.0.0.1', 1), a('10.0.0.2', 1)]);
    const recorder = recordingListener();
    const stop = source({ name: 'api.internal', port: 80 }).subscribe(recorder.listener);
    updateOf(await recorder.next());
    for (const records of [
      [a('10.0.0.2', 1), a('10.0.0.1', 1)],
      [a('10.0.0.1', 1), a('10.0.0.2', 1), a('10.0.0.3', 1)],
      [a('10.0.0.3', 1), a('10.0.0.1', 1), a('10.0.0.2', 1)],
      [a('10.0.0.3', 1), a('10.0.0.1', 1), a('10.0.0.2', 1)],
    ]) {
      dns.setRecords('api.internal', records);
      await untilTimers(1);
      const queries = dns.queryCount;
      vi.advanceTimersByTime(1_000);
      await dns.waitForQueries(queries + 1);
    }
    await untilTimers(1);
    expect(recorder.events.map((e) => updateOf(e).map((x) => x.host))).toEqual([
      ['10.0.0.1', '10.0.0.2'],
      ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
    ]);
    stop();
  });

  test.prop(
    [
      fc.uniqueArray(fc.ipV4(), { minLength: 1, maxLength: 25 }),
      fc.uniqueArray(fc.ipV4(), { minLength: 1, maxLength: 25 }),
      fc.nat(),
    ],
    { numRuns: 40 },
  )(
    'answers in any order (with repeats) give no update; a different set gives exactly one',
    async (first, second, seed) => {
      const shuffled = [...first, ...first.slice(0, seed % (first.length + 1))].sort(
        (x, y) => (hashOf(x, seed) - hashOf(y, seed)) | 0 || (x < y ? -1 : 1),
      );
      const same = new Set(first).size === new Set(second).size && second.every((x) => first.includes(x));
      dns.setRecords(
        'prop.internal',
        first.map((address) => a(address, 1)),
      );
      const recorder = recordingListener();
      const stop = source({ name: 'prop.internal', port: 80 }).subscribe(recorder.listener);
      try {
        updateOf(await recorder.next());
        for (const records of [shuffled, second]) {
          dns.setRecords(
            'prop.internal',
            records.map((address) => a(address, 1)),
          );
          await untilTimers(1);
          const queries = dns.queryCount;
          vi.advanceTimersByTime(1_000);
          await dns.waitForQueries(queries + 1);
        }
        await untilTimers(1);
        expect(recorder.events).toHaveLength(same ? 1 : 2);
        expect(new Set(updateOf(recorder.events.at(-1) as DiscoveryEvent).map((e) => e.host))).toEqual(new Set(second));
      } finally {
        stop();
      }
    },
  );
});

function hashOf(text: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x9e3779b1);
  return h;
}

describe('dnsDiscovery: failures keep the last good set', () => {
  test('SERVFAIL: an error saying so and how stale the set is, retries after refreshOnErrorMs, no update', async () => {
    const clock = new ManualClock();
    dns.setRecords('api.internal', [a('10.0.0.1', 5)]);
    const recorder = recordingListener();
    const stop = source({ name: 'api.internal', port: 80, refreshOnErrorMs: 3_000, clock }).subscribe(
      recorder.listener,
    );
    updateOf(await recorder.next());
    await untilTimers(1);
    dns.behave({ kind: 'servfail' });
    clock.advance(5_000);
    fireAfter(5_000);
    const first = errorOf(await recorder.next());
    expect(first).toMatchObject({
      code: 'ERR_PORTCULLIS_ROUTER_DISCOVERY',
      source: 'dns A api.internal',
      failure: 'lookup-failed',
      dnsCode: 'ESERVFAIL',
      staleForMs: 5_000,
      retryInMs: 3_000,
    });
    await untilTimers(1);
    clock.advance(3_000);
    fireAfter(3_000);
    expect(errorOf(await recorder.next()).staleForMs).toBe(8_000);

    // Back with the same set: nothing to tell. Then a real change: one update.
    dns.behave({ kind: 'answer' });
    await untilTimers(1);
    fireAfter(3_000);
    await untilTimers(1);
    expect(recorder.pending()).toBe(0);
    dns.setRecords('api.internal', [a('10.0.0.2', 5)]);
    fireAfter(5_000);
    expect(updateOf(await recorder.next())).toEqual([{ host: '10.0.0.2', port: 80 }]);
    expect(recorder.events.map((e) => e.type)).toEqual(['update', 'error', 'error', 'update']);
    stop();
  });

  test.each([
    ['nxdomain', 'not-found', 'ENOTFOUND'],
    ['empty', 'empty', 'ENODATA'],
    ['refused', 'lookup-failed', 'EREFUSED'],
    ['drop', 'timeout', 'ETIMEOUT'],
  ] as const)('%s: a %s error, the last good set kept', async (kind, failure, dnsCode) => {
    dns.setRecords('api.internal', [a('10.0.0.1', 5)]);
    const recorder = recordingListener();
    const stop = source({ name: 'api.internal', port: 80 }).subscribe(recorder.listener);
    updateOf(await recorder.next());
    await untilTimers(1);
    dns.behave({ kind });
    vi.advanceTimersByTime(5_000);
    expect(errorOf(await recorder.next())).toMatchObject({ failure, dnsCode });
    expect(recorder.events.filter((e) => e.type === 'update')).toHaveLength(1);
    stop();
  });

  test('a name that is gone (deleted from the zone) is an error too, not an empty set', async () => {
    dns.setRecords('api.internal', [a('10.0.0.1', 5)]);
    const recorder = recordingListener();
    const stop = source({ name: 'api.internal', port: 80 }).subscribe(recorder.listener);
    updateOf(await recorder.next());
    await untilTimers(1);
    dns.deleteName('api.internal');
    vi.advanceTimersByTime(5_000);
    expect(errorOf(await recorder.next()).failure).toBe('not-found');
    stop();
  });

  test('a first lookup that fails reports an error with no staleness, then the first good answer is an update', async () => {
    const recorder = recordingListener();
    const stop = source({ name: 'late.internal', port: 80, refreshOnErrorMs: 2_000 }).subscribe(recorder.listener);
    const error = errorOf(await recorder.next());
    expect(error.failure).toBe('not-found');
    expect(error.staleForMs).toBeUndefined();
    dns.setRecords('late.internal', [a('10.0.0.1')]);
    await untilTimers(1);
    fireAfter(2_000);
    expect(updateOf(await recorder.next())).toEqual([{ host: '10.0.0.1', port: 80 }]);
    stop();
  });
});

describe('dnsDiscovery: SRV', () => {
  const srv = (target: string, port: number, priority: number, weight: number): DnsRecord => ({
    type: 'SRV',
    target,
    port,
    priority,
    weight,
    ttl: 60,
  });
  const NAME = '_http._tcp.api.internal';

  beforeEach(() => {
    dns.setZone({
      [NAME]: [srv('a.internal', 8080, 10, 3), srv('b.internal', 8081, 10, 1), srv('backup.internal', 9090, 20, 5)],
      'a.internal': [a('10.0.0.1', 4), a('10.0.0.2', 40), aaaa('fd00::a')],
      'b.internal': [a('10.0.0.3', 100)],
      'backup.internal': [a('10.9.9.9')],
    });
  });

  test('lowest priority group only; targets resolved to addresses; a target’s weight shared by its addresses', async () => {
    const recorder = recordingListener();
    const stop = source({ name: NAME, type: 'SRV' }).subscribe(recorder.listener);
    expect(updateOf(await recorder.next())).toEqual([
      { host: '10.0.0.1', port: 8080, weight: 1.5 },
      { host: '10.0.0.2', port: 8080, weight: 1.5 },
      { host: '10.0.0.3', port: 8081, weight: 1 },
    ]);
    stop();
  });

  test('re-resolved after the shortest of srvTtlMs and the targets’ address TTLs', async () => {
    const recorder = recordingListener();
    const stop = source({ name: NAME, type: 'SRV', srvTtlMs: 20_000 }).subscribe(recorder.listener);
    updateOf(await recorder.next());
    await untilTimers(1);
    dns.setRecords('a.internal', [a('10.0.0.1', 3_600), a('10.0.0.2', 3_600), aaaa('fd00::a')]);
    fireAfter(4_000); // 10.0.0.1's TTL
    await untilTimers(1);
    fireAfter(20_000); // now srvTtlMs is the shortest
    await untilTimers(1);
    expect(recorder.events).toHaveLength(1);
    stop();
  });

  test('srvTargets "name" keeps the target names, with the records’ weights; "AAAA" resolves IPv6', async () => {
    const named = recordingListener();
    const v6 = recordingListener();
    const stops = [
      source({ name: NAME, type: 'SRV', srvTargets: 'name' }).subscribe(named.listener),
      source({ name: NAME, type: 'SRV', srvTargets: 'AAAA' }).subscribe(v6.listener),
    ];
    expect(updateOf(await named.next())).toEqual([
      { host: 'a.internal', port: 8080, weight: 3 },
      { host: 'b.internal', port: 8081, weight: 1 },
    ]);
    // b.internal has no AAAA record: left out.
    expect(updateOf(await v6.next())).toEqual([{ host: 'fd00::a', port: 8080, weight: 3 }]);
    for (const stop of stops) stop();
  });

  test('weights all 0 in the group count as equal', async () => {
    dns.setRecords(NAME, [srv('a.internal', 80, 1, 0), srv('b.internal', 80, 1, 0)]);
    const recorder = recordingListener();
    const stop = source({ name: NAME, type: 'SRV', srvTargets: 'name' }).subscribe(recorder.listener);
    expect(updateOf(await recorder.next()).map((e) => e.weight)).toEqual([1, 1]);
    stop();
  });

  test('no target with an address, or the "." target, is an empty answer: an error', async () => {
    dns.setRecords(NAME, [srv('gone.internal', 80, 1, 1)]);
    const recorder = recordingListener();
    const stop = source({ name: NAME, type: 'SRV' }).subscribe(recorder.listener);
    expect(errorOf(await recorder.next()).failure).toBe('empty');
    stop();
    dns.setRecords(NAME, [srv('.', 0, 0, 0)]);
    const dot = recordingListener();
    const stopDot = source({ name: NAME, type: 'SRV' }).subscribe(dot.listener);
    expect(errorOf(await dot.next()).failure).toBe('empty');
    stopDot();
  });

  test('a target whose lookup fails (not merely missing) fails the whole refresh', async () => {
    dns.behave({ kind: 'servfail', name: 'b.internal' });
    const recorder = recordingListener();
    const stop = source({ name: NAME, type: 'SRV' }).subscribe(recorder.listener);
    expect(errorOf(await recorder.next())).toMatchObject({ failure: 'lookup-failed', dnsCode: 'ESERVFAIL' });
    stop();
  });
});

describe('dnsDiscovery: subscriptions and stop', () => {
  test('subscribers share one lookup loop and one timer; a late one gets the current set at once', async () => {
    dns.setRecords('api.internal', [a('10.0.0.1', 5)]);
    const discovery = source({ name: 'api.internal', port: 80 });
    const first = recordingListener();
    const second = recordingListener();
    const stopFirst = discovery.subscribe(first.listener);
    updateOf(await first.next());
    await untilTimers(1);
    const stopSecond = discovery.subscribe(second.listener);
    expect(second.events).toEqual([{ type: 'update', endpoints: [{ host: '10.0.0.1', port: 80 }] }]);
    await second.next();
    const queries = dns.queryCount;
    dns.setRecords('api.internal', [a('10.0.0.2', 5)]);
    fireAfter(5_000);
    expect(updateOf(await first.next())).toEqual(updateOf(await second.next()));
    expect(dns.queryCount).toBe(queries + 1);
    stopFirst();
    await untilTimers(1);
    expect(vi.getTimerCount()).toBe(1);
    stopSecond();
    expect(vi.getTimerCount()).toBe(0);
  });

  test('stop clears the timer: no lookup afterwards, however long', async () => {
    dns.setRecords('api.internal', [a('10.0.0.1', 5)]);
    const recorder = recordingListener();
    const stop = source({ name: 'api.internal', port: 80 }).subscribe(recorder.listener);
    updateOf(await recorder.next());
    await untilTimers(1);
    stop();
    stop();
    expect(vi.getTimerCount()).toBe(0);
    const queries = dns.queryCount;
    vi.advanceTimersByTime(3_600_000);
    expect(vi.getTimerCount()).toBe(0);
    expect(dns.queryCount).toBe(queries);
  });

  test('stop during a lookup drops its answer; subscribing again starts afresh', async () => {
    dns.setRecords('api.internal', [a('10.0.0.1', 5)]);
    const discovery = source({ name: 'api.internal', port: 80 });
    const early = recordingListener();
    const queries = dns.queryCount;
    discovery.subscribe(early.listener)();
    await dns.waitForQueries(queries + 1);
    const later = recordingListener();
    const stop = discovery.subscribe(later.listener);
    updateOf(await later.next());
    await untilTimers(1);
    expect(early.events).toEqual([]);
    stop();
  });

  test('a listener that throws is reported as a warning and does not stop the source', async () => {
    dns.setRecords('api.internal', [a('10.0.0.1', 5)]);
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    const discovery = source({ name: 'api.internal', port: 80 });
    const stopThrowing = discovery.subscribe({
      update: () => {
        throw new Error('listener bug');
      },
      error: () => undefined,
    });
    const recorder = recordingListener();
    const stop = discovery.subscribe(recorder.listener);
    updateOf(await recorder.next());
    await untilTimers(1);
    dns.setRecords('api.internal', [a('10.0.0.2', 5)]);
    vi.advanceTimersByTime(5_000);
    updateOf(await recorder.next());
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.map((w) => w.message)).toContain('listener bug');
    stopThrowing();
    stop();
  });
});

describe('dnsDiscovery: options are checked when the source is built', () => {
  const base = { name: 'api.internal', port: 80 };
  test.each([
    ['name', { ...base, name: '' }],
    ['name', { ...base, name: 'has space.internal' }],
    ['name', { ...base, name: 'a..b' }],
    ['name', { ...base, name: `${'a'.repeat(64)}.internal` }],
    ['name', { ...base, name: '10.0.0.256' }],
    ['type', { ...base, type: 'MX' }],
    ['port', { name: 'api.internal' }],
    ['port', { ...base, port: 0 }],
    ['port', { ...base, port: 65_536 }],
    ['port', { ...base, port: 80.5 }],
    ['port', { name: '_x._tcp.api', type: 'SRV', port: 80 }],
    ['srvTargets', { name: '_x._tcp.api', type: 'SRV', srvTargets: 'MX' }],
    ['servers', { ...base, servers: [] }],
    ['servers', { ...base, servers: ['not-an-ip'] }],
    ['timeoutMs', { ...base, timeoutMs: 0 }],
    ['tries', { ...base, tries: 1.5 }],
    ['minTtlMs', { ...base, minTtlMs: 0 }],
    ['maxTtlMs', { ...base, maxTtlMs: Number.POSITIVE_INFINITY }],
    ['maxTtlMs', { ...base, minTtlMs: 5_000, maxTtlMs: 4_000 }],
    ['srvTtlMs', { ...base, srvTtlMs: Number.NaN }],
    ['refreshOnErrorMs', { ...base, refreshOnErrorMs: -1 }],
    ['zone', { ...base, zone: '' }],
    ['metadata', { ...base, metadata: { tier: 1 } }],
    ['clock', { ...base, clock: {} }],
  ])('refuses a bad %s', (option, options) => {
    let error: unknown;
    try {
      dnsDiscovery(options as DnsDiscoveryOptions);
    } catch (thrown) {
      error = thrown;
    }
    expect(isInvalidOptionError(error) && error.option).toBe(option);
  });

  test('a listener without update and error is refused at subscribe', () => {
    expect(() => source(base).subscribe({} as never)).toThrow(/listener/);
    expect(vi.getTimerCount()).toBe(0);
  });
});
