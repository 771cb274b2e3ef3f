import { createConnection } from 'node:net';
import { Resolver } from 'node:dns/promises';
import { decode, encode } from 'dns-packet';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { isTestkitError, startDnsServer } from '../src/index.js';
import type { DnsServer } from '../src/index.js';

const ZONE = {
  'api.internal': [
    { type: 'A', address: '10.0.0.1', ttl: 5 },
    { type: 'A', address: '10.0.0.2', ttl: 7 },
    { type: 'AAAA', address: 'fd00::1', ttl: 9 },
  ],
  '_http._tcp.api.internal': [
    { type: 'SRV', target: 'api.internal', port: 8080, priority: 10, weight: 3, ttl: 30 },
    { type: 'SRV', target: 'backup.internal', port: 9090, priority: 20 },
  ],
} as const;

async function dnsCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('startDnsServer', () => {
  let dns: DnsServer;
  let resolver: Resolver;

  beforeAll(async () => {
    dns = await startDnsServer({ zone: ZONE });
    // One try and a short timeout keep the `drop` case quick.
    resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([dns.address]);
  });
  afterAll(async () => {
    await dns.close();
  });
  beforeEach(() => {
    dns.behave({ kind: 'answer' });
    dns.setZone(ZONE);
  });

  test('answers A, AAAA and SRV with their TTLs, names matched without case', async () => {
    expect(dns.address).toBe(`127.0.0.1:${String(dns.port)}`);
    expect(await resolver.resolve4('API.internal', { ttl: true })).toEqual([
      { address: '10.0.0.1', ttl: 5 },
      { address: '10.0.0.2', ttl: 7 },
    ]);
    expect(await resolver.resolve6('api.internal', { ttl: true })).toEqual([{ address: 'fd00::1', ttl: 9 }]);
    expect(await resolver.resolveSrv('_http._tcp.api.internal')).toEqual([
      { name: 'api.internal', port: 8080, priority: 10, weight: 3 },
      { name: 'backup.internal', port: 9090, priority: 20, weight: 0 },
    ]);
  });

  test('an absent name is NXDOMAIN, a present one without that type is NODATA', async () => {
    expect(await dnsCode(resolver.resolve4('nope.internal'))).toBe('ENOTFOUND');
    expect(await dnsCode(resolver.resolve6('_http._tcp.api.internal'))).toBe('ENODATA');
  });

  test('records change at runtime: setRecords, deleteName, setZone', async () => {
    dns.setRecords('api.internal', [{ type: 'A', address: '10.0.0.9' }]);
    expect(await resolver.resolve4('api.internal', { ttl: true })).toEqual([{ address: '10.0.0.9', ttl: 60 }]);
    dns.deleteName('api.internal');
    expect(await dnsCode(resolver.resolve4('api.internal'))).toBe('ENOTFOUND');
    dns.setZone({ 'other.internal': [{ type: 'A', address: '10.1.0.1' }] });
    expect(await resolver.resolve4('other.internal')).toEqual(['10.1.0.1']);
  });

  test.each([
    ['servfail', 'ESERVFAIL'],
    ['nxdomain', 'ENOTFOUND'],
    ['empty', 'ENODATA'],
    ['refused', 'EREFUSED'],
    ['drop', 'ETIMEOUT'],
  ] as const)('behave %s: the client sees %s, and the query is still counted', async (kind, code) => {
    dns.behave({ kind });
    const before = dns.queryCount;
    expect(await dnsCode(resolver.resolve4('api.internal'))).toBe(code);
    expect(dns.queryCount).toBeGreaterThan(before);
    expect(dns.queries.at(-1)).toEqual({ name: 'api.internal', type: 'A', transport: 'udp' });
  });

  test('a failure limited to a name or a type leaves the other queries answered', async () => {
    dns.behave({ kind: 'servfail', type: 'AAAA' });
    expect(await resolver.resolve4('api.internal')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(await dnsCode(resolver.resolve6('api.internal'))).toBe('ESERVFAIL');
    dns.behave({ kind: 'nxdomain', name: 'API.internal.' });
    expect(await dnsCode(resolver.resolve4('api.internal'))).toBe('ENOTFOUND');
    expect(await resolver.resolveSrv('_http._tcp.api.internal')).toHaveLength(2);
  });

  test('an answer too big for UDP is truncated, and the client gets it whole over TCP', async () => {
    const addresses = Array.from({ length: 300 }, (_, i) => `10.2.${String(i >> 8)}.${String(i & 255)}`);
    dns.setRecords(
      'big.internal',
      addresses.map((address) => ({ type: 'A', address })),
    );
    expect((await resolver.resolve4('big.internal')).sort()).toEqual([...addresses].sort());
    expect(dns.queries.slice(-2).map((q) => q.transport)).toEqual(['udp', 'tcp']);
  });

  test('TCP answers several length-prefixed queries on one connection, split across packets', async () => {
    const query = (id: number): Buffer => {
      const message = encode({ type: 'query', id, questions: [{ type: 'A', name: 'api.internal' }] });
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(message.length, 0);
      return Buffer.concat([prefix, message]);
    };
    const socket = createConnection({ host: dns.host, port: dns.port });
    const bytes = Buffer.concat([query(1), query(2)]);
    socket.write(bytes.subarray(0, 5));
    socket.write(bytes.subarray(5));
    let received = Buffer.alloc(0);
    const ids = await new Promise<number[]>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const found: number[] = [];
        let rest = received;
        while (rest.length >= 2 && rest.length >= 2 + rest.readUInt16BE(0)) {
          found.push(decode(rest.subarray(2, 2 + rest.readUInt16BE(0))).id ?? -1);
          rest = rest.subarray(2 + rest.readUInt16BE(0));
        }
        if (found.length === 2) resolve(found);
      });
    });
    socket.destroy();
    expect(ids).toEqual([1, 2]);
  });

  test('waitForQueries resolves once the count is reached', async () => {
    const target = dns.queryCount + 2;
    let reached = false;
    const waiting = dns.waitForQueries(target).then(() => {
      reached = true;
    });
    await resolver.resolve4('api.internal');
    expect(reached).toBe(false);
    await resolver.resolve4('api.internal');
    await waiting;
    expect(dns.queryCount).toBe(target);
  });

  test('refuses records it could not serve, with a TestkitError', () => {
    const bad = [
      [{ type: 'A', address: 'fd00::1' }],
      [{ type: 'AAAA', address: '10.0.0.1' }],
      [{ type: 'SRV', target: 'x.internal', port: 70_000 }],
      [{ type: 'A', address: '10.0.0.1', ttl: -1 }],
    ] as const;
    for (const records of bad) {
      let error: unknown;
      try {
        dns.setRecords('x.internal', records);
      } catch (thrown) {
        error = thrown;
      }
      expect(isTestkitError(error) && error.code === 'ERR_TESTKIT_INVALID_OPTION').toBe(true);
    }
  });

  test('close rejects pending waits and is safe to call twice', async () => {
    const own = await startDnsServer();
    const waiting = own.waitForQueries(1);
    await own.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_TESTKIT_STOPPED' });
    await own.close();
  });
});
