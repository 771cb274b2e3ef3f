import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createUpstreamPool,
  type EndpointOutcome,
  type UpstreamPool,
  type UpstreamPoolEvents,
} from '@portcullis/router';
import { ManualClock, startHttpServer, type HttpServer } from '@portcullis/testkit';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';

// Real sockets end to end: three local upstreams, health checks over HTTP, and requests sent to the
// leased origins with undici. Only time is steered (a manual clock for ejections and timeouts).

let servers: HttpServer[] = [];
let agent: Agent;
const pools: UpstreamPool[] = [];

/** An upstream answering `/health` with `health()` and anything else with its own port. */
interface Upstream {
  server: HttpServer;
  id: string;
  health: number | 'hang';
}
let upstreams: Upstream[] = [];

beforeEach(async () => {
  agent = new Agent({ connections: 8 });
  servers = await Promise.all([startHttpServer(), startHttpServer(), startHttpServer()]);
  upstreams = servers.map((server) => ({ server, id: `127.0.0.1:${String(server.port)}`, health: 200 }));
  for (const upstream of upstreams) {
    upstream.server.setHandler((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/health') {
        if (upstream.health === 'hang') return; // never answers: the check must time out
        res.writeHead(upstream.health).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(upstream.id);
    });
  }
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  await agent.close();
  await Promise.all(servers.map((server) => server.close()));
});

function pool(options: Omit<Parameters<typeof createUpstreamPool>[0], 'name' | 'endpoints'>): UpstreamPool {
  const created = createUpstreamPool({
    name: 'upstreams',
    endpoints: servers.map((server) => ({ host: '127.0.0.1', port: server.port })),
    balancer: 'round-robin',
    breaker: false,
    ...options,
  });
  pools.push(created);
  return created;
}

/** Sends one request through a lease, as a forwarder would, and reports its outcome. */
async function send(target: UpstreamPool): Promise<{ id: string; outcome: EndpointOutcome }> {
  const lease = target.acquire();
  if (lease === undefined) throw new Error('no endpoint');
  let outcome: EndpointOutcome;
  try {
    const response = await request(`${lease.origin}/work`, { dispatcher: agent });
    const body = await response.body.text();
    expect(body).toBe(lease.id);
    outcome = { status: response.statusCode, durationMs: 1 };
  } catch (error) {
    const code = (error as { code?: string }).code;
    outcome = { failure: code === 'ECONNREFUSED' ? 'refused' : 'reset', durationMs: 1 };
  }
  lease.complete(outcome);
  return { id: lease.id, outcome };
}

async function sendMany(target: UpstreamPool, count: number): Promise<{ id: string; outcome: EndpointOutcome }[]> {
  const results = [];
  for (let i = 0; i < count; i++) results.push(await send(target));
  return results;
}

function record<K extends keyof UpstreamPoolEvents>(target: UpstreamPool, type: K): UpstreamPoolEvents[K][] {
  const seen: UpstreamPoolEvents[K][] = [];
  target.events.on(type, (event) => seen.push(event));
  return seen;
}

describe('upstream pool over real sockets', () => {
  test('3 refused requests in a row eject an endpoint and traffic moves; active checks bring it back', async () => {
    const clock = new ManualClock();
    const target = pool({
      clock,
      outlierDetection: { consecutiveGatewayErrors: 3, baseEjectionTimeMs: 60_000 },
      healthCheck: { path: '/health', intervalMs: 3_600_000, healthyThreshold: 2 },
    });
    const ejected = record(target, 'ejected');
    const restored = record(target, 'restored');
    const down = upstreams[1] as Upstream;
    await down.server.stopListening();

    const before = await sendMany(target, 9); // round robin: three attempts on the stopped one
    expect(before.filter((r) => r.id === down.id).map((r) => r.outcome.failure)).toEqual([
      'refused',
      'refused',
      'refused',
    ]);
    expect(ejected.map((e) => [e.endpoint.id, e.reason])).toEqual([[down.id, 'consecutive-gateway-errors']]);

    const during = await sendMany(target, 30);
    expect(during.every((r) => r.id !== down.id && r.outcome.status === 200)).toBe(true);
    expect(new Set(during.map((r) => r.id)).size).toBe(2);

    await down.server.resumeListening();
    await target.checkNow();
    expect(restored).toEqual([]); // one pass of two
    await target.checkNow();
    expect(restored.map((e) => [e.endpoint.id, e.reason])).toEqual([[down.id, 'active-check']]);
    const servedBefore = down.server.requests;
    const after = await sendMany(target, 9);
    expect(after.filter((r) => r.id === down.id)).toHaveLength(3);
    expect(after.every((r) => r.outcome.status === 200)).toBe(true);
    expect(down.server.requests - servedBefore).toBe(3);
  });

  test('active checks: unhealthy after 3 failures (status, refused, timeout), healthy after 2 passes', async () => {
    const clock = new ManualClock();
    const target = pool({
      clock,
      healthCheck: {
        path: '/health',
        intervalMs: 3_600_000,
        timeoutMs: 50,
        unhealthyThreshold: 3,
        healthyThreshold: 2,
      },
    });
    const unhealthy = record(target, 'unhealthy');
    const healthy = record(target, 'healthy');
    const sick = upstreams[2] as Upstream;

    sick.health = 503;
    await target.checkNow();
    await sick.server.stopListening();
    await target.checkNow();
    await sick.server.resumeListening();
    sick.health = 'hang';
    const third = target.checkNow();
    // The timeout is on the pool's clock: move it past the deadline; the pool's timer notices.
    clock.advance(50);
    await third;
    expect(unhealthy.map((e) => [e.endpoint.id, e.lastFailure])).toEqual([[sick.id, 'timeout']]);
    expect(target.snapshot().endpoints.find((e) => e.endpoint.id === sick.id)?.healthy).toBe(false);
    expect((await sendMany(target, 12)).every((r) => r.id !== sick.id)).toBe(true);

    sick.health = 204;
    await target.checkNow();
    expect(healthy).toEqual([]);
    await target.checkNow();
    expect(healthy.map((e) => e.endpoint.id)).toEqual([sick.id]);
    expect((await sendMany(target, 3)).map((r) => r.id)).toContain(sick.id);
  });

  test('the failure an unhealthy event reports: the status, or the connection error code', async () => {
    const target = pool({ healthCheck: { path: '/health', intervalMs: 3_600_000, unhealthyThreshold: 1 } });
    const unhealthy = record(target, 'unhealthy');
    (upstreams[0] as Upstream).health = 500;
    await (upstreams[1] as Upstream).server.stopListening();
    await target.checkNow();
    expect(new Map(unhealthy.map((e) => [e.endpoint.id, e.lastFailure]))).toEqual(
      new Map([
        [(upstreams[0] as Upstream).id, 'status 500'],
        [(upstreams[1] as Upstream).id, 'ECONNREFUSED'],
      ]),
    );
  });

  test('the scheduler checks on its own: one timer, real short interval', async () => {
    const target = pool({
      healthCheck: { path: '/health', intervalMs: 20, unhealthyThreshold: 2, healthyThreshold: 2 },
    });
    const sick = upstreams[0] as Upstream;
    sick.health = 503;
    const down = await new Promise<string>((resolve) =>
      target.events.once('unhealthy', (e) => {
        resolve(e.endpoint.id);
      }),
    );
    expect(down).toBe(sick.id);
    sick.health = 200;
    const up = await new Promise<string>((resolve) =>
      target.events.once('healthy', (e) => {
        resolve(e.endpoint.id);
      }),
    );
    expect(up).toBe(sick.id);
    // Every endpoint keeps being checked, each on its own jittered schedule.
    const counts = upstreams.map((u) => u.server.requests);
    const again = new Promise<void>((resolve) =>
      target.events.once('unhealthy', () => {
        resolve();
      }),
    );
    sick.health = 500;
    await again;
    expect(upstreams.every((u, i) => u.server.requests > (counts[i] as number))).toBe(true);
  });
});
