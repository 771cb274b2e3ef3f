import { createUpstreamPool, type UpstreamPool, type UpstreamPoolOptions } from '../src/index.js';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect, test } from 'vitest';
import {
  client,
  record,
  sendSequentially,
  servedBy,
  startGateway,
  startUpstream,
  type Upstream,
} from './gateway-helpers.js';

// Outlier detection, active checks and the panic threshold seen through the gateway: requests go
// through createForwardHandler to an upstream pool of testkit servers, over real sockets; the
// forwarder's outcomes feed the pool. Only time is steered (a manual clock; checks run by checkNow).

async function upstreams(count: number): Promise<Upstream[]> {
  return Promise.all(Array.from({ length: count }, () => startUpstream()));
}

function poolOf(servers: readonly Upstream[], options: Partial<UpstreamPoolOptions>): UpstreamPool {
  return createUpstreamPool({
    name: 'users',
    endpoints: servers.map((u) => ({ host: '127.0.0.1', port: u.port })),
    balancer: 'round-robin',
    healthCheck: { path: '/health', intervalMs: 3_600_000, unhealthyThreshold: 1, healthyThreshold: 2 },
    ...options,
  });
}

describe('outlier detection through the forwarder', () => {
  test('3 failures in a row (refused, reset, 503) eject an endpoint; traffic moves; active checks bring it back', async () => {
    const clock = new ManualClock();
    const [a, b, c] = (await upstreams(3)) as [Upstream, Upstream, Upstream];
    const pool = poolOf([a, b, c], {
      clock,
      outlierDetection: { consecutiveGatewayErrors: 3, baseEjectionTimeMs: 60_000 },
    });
    const ejected = record(pool, 'ejected');
    const restored = record(pool, 'restored');
    const gateway = await startGateway(pool);
    const send = client(gateway, 1);

    /** Sends requests one by one until the forwarder has made `count` more attempts on `b`. */
    const untilAttemptsOnB = async (count: number) => {
      const target = gateway.attempts.filter((x) => x.endpoint === b.id).length + count;
      const results = [];
      while (gateway.attempts.filter((x) => x.endpoint === b.id).length < target) {
        results.push(await send());
        if (results.length > 20) throw new Error(`no attempt on ${b.id}`);
      }
      return results;
    };
    const lastOnB = () => gateway.attempts.filter((x) => x.endpoint === b.id).at(-1)?.outcome;

    await b.server.stopListening();
    const refused = await untilAttemptsOnB(1);
    expect(lastOnB()).toMatchObject({ failure: 'refused' });
    await b.server.resumeListening();
    b.mode = 'reset';
    const reset = await untilAttemptsOnB(1);
    expect(lastOnB()).toMatchObject({ failure: 'reset' });
    // Refused and reset GETs were retried on another endpoint: the clients never saw them.
    expect([...refused, ...reset].every((r) => r.status === 200 && r.id !== b.id)).toBe(true);
    expect(ejected).toEqual([]); // two in a row: not yet
    b.mode = 503;
    const answered = await untilAttemptsOnB(1);
    expect(answered.at(-1)?.status).toBe(503); // an upstream's answer is relayed, not retried
    expect(ejected.map((e) => [e.endpoint.id, e.reason])).toEqual([[b.id, 'consecutive-gateway-errors']]);

    // Ejected: the next 30 requests all go to a and c, and all succeed.
    const attemptsBefore = gateway.attempts.length;
    const during = await sendSequentially(send, 30);
    expect(during.every((r) => r.status === 200)).toBe(true);
    expect(servedBy(during)).toEqual(
      new Map([
        [a.id, 15],
        [c.id, 15],
      ]),
    );
    expect(gateway.attempts.slice(attemptsBefore).some((x) => x.endpoint === b.id)).toBe(false);

    // b answers again: two passed checks (healthyThreshold) end the ejection long before its 60 s.
    b.mode = 'ok';
    await pool.checkNow();
    expect(restored).toEqual([]);
    expect(b.server.requests).toBeGreaterThan(0);
    await pool.checkNow();
    expect(restored.map((e) => [e.endpoint.id, e.reason])).toEqual([[b.id, 'active-check']]);
    const after = await sendSequentially(send, 9);
    expect(after.every((r) => r.status === 200)).toBe(true);
    expect(servedBy(after)).toEqual(
      new Map([
        [a.id, 3],
        [b.id, 3],
        [c.id, 3],
      ]),
    );
    expect(pool.inFlight).toBe(0);
  });

  test('a success between failures resets the run: no ejection', async () => {
    const [a, b] = (await upstreams(2)) as [Upstream, Upstream];
    const pool = poolOf([a, b], {
      clock: new ManualClock(),
      outlierDetection: { consecutiveGatewayErrors: 3 },
      healthCheck: false,
    });
    const ejected = record(pool, 'ejected');
    const gateway = await startGateway(pool);
    const send = client(gateway, 1);
    // Round robin: b gets every other request; its answers go 503, 503, 200, 503, 503.
    const answers: (503 | 'ok')[] = [503, 503, 'ok', 503, 503];
    for (const mode of answers) {
      b.mode = mode;
      await sendSequentially(send, 2);
    }
    expect(gateway.attempts.filter((x) => x.endpoint === b.id).map((x) => x.outcome.status)).toEqual([
      503, 503, 200, 503, 503,
    ]);
    expect(ejected).toEqual([]);
  });
});

describe('panic threshold through the forwarder', () => {
  test('with most endpoints unhealthy, traffic goes to all of them; with few, it avoids them', async () => {
    const servers = await upstreams(4);
    const [first, second, third] = servers as [Upstream, Upstream, Upstream, Upstream];
    const pool = poolOf(servers, { clock: new ManualClock(), panicThresholdPercent: 50 });
    const entered = record(pool, 'panicEntered');
    const left = record(pool, 'panicLeft');
    const gateway = await startGateway(pool);
    const send = client(gateway, 1);

    // One of four unhealthy (75% available): it gets nothing.
    first.health = 503;
    await pool.checkNow();
    expect(pool.panic).toBe(false);
    const calm = await sendSequentially(send, 12);
    expect(calm.every((r) => r.status === 200)).toBe(true);
    expect(servedBy(calm).has(first.id)).toBe(false);
    expect([...servedBy(calm).values()]).toEqual([4, 4, 4]);

    // Three of four unhealthy (25% < 50%): the pool panics and every endpoint gets its share.
    second.health = 503;
    third.health = 503;
    await pool.checkNow();
    expect(pool.panic).toBe(true);
    expect(entered.map((e) => [e.available, e.total])).toEqual([[1, 4]]);
    const panicked = await sendSequentially(send, 40);
    expect(panicked.every((r) => r.status === 200)).toBe(true);
    expect(servedBy(panicked)).toEqual(new Map(servers.map((u) => [u.id, 10])));

    // Two come back (healthyThreshold 2). Panic ends with the first (2 of 4 is not below 50%); the
    // one still sick is avoided again.
    second.health = 200;
    third.health = 200;
    await pool.checkNow();
    await pool.checkNow();
    expect(left.map((e) => [e.available, e.total])).toEqual([[2, 4]]);
    expect(pool.panic).toBe(false);
    const recovered = await sendSequentially(send, 12);
    expect(servedBy(recovered).has(first.id)).toBe(false);
    expect(recovered.every((r) => r.status === 200)).toBe(true);
  });
});
