import { createServer, type Server } from 'node:http';
import { createUpstreamPool, dnsDiscovery, isDiscoveryError, type UpstreamPool } from '../src/index.js';
import { startDnsServer, type DnsServer } from '@portcullis/testkit';
import { describe, expect, onTestFinished, test } from 'vitest';
import {
  answer,
  client,
  listenOn,
  nextEvent,
  sendSequentially,
  servedBy,
  startGateway,
  startUpstream,
  until,
  type Upstream,
} from './gateway-helpers.js';

// DNS discovery end to end: a pool follows a name served by the testkit's DNS server, the gateway
// forwards to what it finds, and record changes and DNS failures are seen by clients as they
// should be. Real sockets and real DNS queries; TTL 0 and short clamps keep the lookups frequent.

const NAME = 'api.gateway.test';

async function dnsServer(): Promise<DnsServer> {
  const dns = await startDnsServer();
  onTestFinished(() => dns.close());
  return dns;
}

/**
 * Upstreams on 127.0.0.2, .3 and .4 (Linux routes all of 127/8 to loopback), on one port, as the
 * instances behind an A record would be; each answers with its own `address:port`.
 */
async function loopbackUpstreams(hosts: readonly string[]): Promise<{ port: number; ids: string[] }> {
  for (let tries = 0; ; tries++) {
    const servers: Server[] = [];
    try {
      let port = 0;
      for (const host of hosts) {
        const server = createServer((req, res) => {
          answer(req, res, `${host}:${String(port)}`, 200);
        });
        servers.push(server);
        port = await listenOn(server, host, port);
      }
      onTestFinished(() => Promise.all(servers.map((s) => closeServer(s))).then(() => undefined));
      return { port, ids: hosts.map((host) => `${host}:${String(port)}`) };
    } catch (error) {
      // The first port was free on one address but taken on another: try another port.
      await Promise.all(servers.map((s) => closeServer(s)));
      if (tries >= 5) throw error;
    }
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.closeAllConnections();
    server.close(() => {
      resolve();
    });
  });
}

function a(address: string) {
  return { type: 'A', address, ttl: 0 } as const;
}

function idsOf(pool: UpstreamPool): string[] {
  return pool.endpoints.map((e) => e.id).sort();
}

/** Resolves once the pool's endpoint ids are exactly `ids`. */
async function following(pool: UpstreamPool, ids: readonly string[]): Promise<void> {
  await until(() => idsOf(pool).join() === [...ids].sort().join(), `the pool follows DNS to ${ids.join(', ')}`);
}

describe('DNS discovery through the gateway', () => {
  test('A records: the pool follows record changes, traffic moves, SERVFAIL keeps the last set', async () => {
    const { port, ids } = await loopbackUpstreams(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    const [two, three, four] = ids as [string, string, string];
    const dns = await dnsServer();
    dns.setRecords(NAME, [a('127.0.0.2'), a('127.0.0.3')]);
    const pool = createUpstreamPool({
      name: 'dns',
      balancer: 'round-robin',
      discovery: dnsDiscovery({
        name: NAME,
        port,
        servers: [dns.address],
        minTtlMs: 20,
        refreshOnErrorMs: 20,
        timeoutMs: 500,
      }),
    });
    const errors: unknown[] = [];
    pool.events.on('discoveryError', (event) => errors.push(event.error));
    await following(pool, [two, three]);
    const gateway = await startGateway(pool);
    const send = client(gateway, 1);

    const first = await sendSequentially(send, 20);
    expect(first.every((r) => r.status === 200)).toBe(true);
    expect(servedBy(first)).toEqual(
      new Map([
        [two, 10],
        [three, 10],
      ]),
    );

    // A record replaced: .2 leaves, .4 joins; traffic follows.
    const moved = nextEvent(pool, 'endpointsUpdated');
    dns.setRecords(NAME, [a('127.0.0.4'), a('127.0.0.3')]);
    expect(await moved).toMatchObject({ added: [four], removed: [two] });
    const second = await sendSequentially(send, 20);
    expect(second.every((r) => r.status === 200)).toBe(true);
    expect(servedBy(second)).toEqual(
      new Map([
        [three, 10],
        [four, 10],
      ]),
    );

    // SERVFAIL, and the zone changes behind it: the pool keeps serving the last good set through
    // several failed refreshes.
    dns.behave({ kind: 'servfail' });
    dns.setRecords(NAME, [a('127.0.0.2')]);
    const queries = dns.queryCount;
    await until(() => errors.length >= 3, 'three failed refreshes');
    expect(dns.queryCount).toBeGreaterThan(queries);
    const failure = errors.at(-1);
    expect(isDiscoveryError(failure) && failure.dnsCode).toBe('ESERVFAIL');
    expect(idsOf(pool)).toEqual([three, four]);
    const during = await sendSequentially(send, 20);
    expect(during.every((r) => r.status === 200)).toBe(true);
    expect(servedBy(during)).toEqual(
      new Map([
        [three, 10],
        [four, 10],
      ]),
    );

    // DNS answers again: the new set applies at once.
    dns.behave({ kind: 'answer' });
    await following(pool, [two]);
    const after = await sendSequentially(send, 5);
    expect(servedBy(after)).toEqual(new Map([[two, 5]]));
    expect(pool.inFlight).toBe(0);
  });

  test('SRV records: ports and weights from the records, changes move traffic', async () => {
    const [x, y, z] = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
    const dns = await dnsServer();
    const srv = (upstream: Upstream, weight: number) =>
      ({ type: 'SRV', target: 'node.gateway.test', port: upstream.port, weight, ttl: 0 }) as const;
    dns.setRecords('node.gateway.test', [a('127.0.0.1')]);
    dns.setRecords(`_http._tcp.${NAME}`, [srv(x, 3), srv(y, 1)]);
    const pool = createUpstreamPool({
      name: 'srv',
      balancer: 'weighted-round-robin',
      discovery: dnsDiscovery({
        name: `_http._tcp.${NAME}`,
        type: 'SRV',
        servers: [dns.address],
        minTtlMs: 20,
        srvTtlMs: 20,
        refreshOnErrorMs: 20,
        timeoutMs: 500,
      }),
    });
    await following(pool, [x.id, y.id]);
    const gateway = await startGateway(pool);
    const send = client(gateway, 1);

    const weighted = await sendSequentially(send, 20);
    expect(weighted.every((r) => r.status === 200)).toBe(true);
    expect(servedBy(weighted)).toEqual(
      new Map([
        [x.id, 15],
        [y.id, 5],
      ]),
    );

    dns.setRecords(`_http._tcp.${NAME}`, [srv(y, 1), srv(z, 1)]);
    await following(pool, [y.id, z.id]);
    const moved = await sendSequentially(send, 10);
    expect(servedBy(moved)).toEqual(
      new Map([
        [y.id, 5],
        [z.id, 5],
      ]),
    );
  });
});
