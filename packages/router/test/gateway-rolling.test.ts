import {
  createUpstreamPool,
  functionDiscovery,
  type DiscoveredEndpoint,
  type ForwarderOptions,
  type UpstreamPool,
} from '../src/index.js';
import { describe, expect, onTestFinished, test } from 'vitest';
import {
  client,
  drainingLeases,
  nextEvent,
  startGateway,
  startUpstream,
  until,
  type ClientResult,
  type PoolGateway,
  type Upstream,
} from './gateway-helpers.js';

// A rolling replacement of every endpoint of an upstream while clients keep requests in flight
// through the gateway: discovery (a function source) reports each step, the pool applies it
// atomically and drains what left, the forwarder retries what may be retried. Real sockets.

const N = 6;
const GETS_IN_FLIGHT = 8;
const POSTS_IN_FLIGHT = 2;
const POST_BODY = 'x'.repeat(1_000);

/** A pool following a function source whose answer the test changes. */
function followed(upstreams: readonly Upstream[]): { pool: UpstreamPool; publish(next: readonly Upstream[]): void } {
  let answer: DiscoveredEndpoint[] = upstreams.map(endpointOf);
  const pool = createUpstreamPool({
    name: 'rolling',
    discovery: functionDiscovery(() => answer, { intervalMs: 5 }),
  });
  return {
    pool,
    publish(next) {
      answer = next.map(endpointOf);
    },
  };
}

function endpointOf(upstream: Upstream): DiscoveredEndpoint {
  return { host: '127.0.0.1', port: upstream.port };
}

/** Publishes `next` and waits until the pool has applied exactly that set. */
async function roll(
  target: ReturnType<typeof followed>,
  next: readonly Upstream[],
): Promise<{ added: readonly string[]; removed: readonly string[] }> {
  const applied = nextEvent(target.pool, 'endpointsUpdated');
  target.publish(next);
  const event = await applied;
  expect(target.pool.endpoints.map((e) => e.id).sort()).toEqual(next.map((u) => u.id).sort());
  return event;
}

/** Clients keeping `GETS_IN_FLIGHT` GETs and `POSTS_IN_FLIGHT` POSTs in flight until stopped. */
function load(gateway: PoolGateway): {
  readonly results: ClientResult[];
  /** Resolves when every request in flight now has ended (retries included). */
  settled(): Promise<void>;
  stop(): Promise<ClientResult[]>;
} {
  const send = client(gateway, GETS_IN_FLIGHT + POSTS_IN_FLIGHT);
  const results: ClientResult[] = [];
  const inFlight = new Set<Promise<ClientResult>>();
  let running = true;
  const worker = async (method: string): Promise<void> => {
    while (running) {
      const sent = send(method, method === 'POST' ? POST_BODY : undefined);
      inFlight.add(sent);
      const result = await sent;
      results.push(result);
      inFlight.delete(sent);
      // The gateway always answers: a transport error already fails the test, and ends this client.
      if (result.error !== undefined) return;
    }
  };
  const workers = [
    ...Array.from({ length: GETS_IN_FLIGHT }, () => worker('GET')),
    ...Array.from({ length: POSTS_IN_FLIGHT }, () => worker('POST')),
  ];
  onTestFinished(() => {
    running = false;
  });
  return {
    results,
    settled: async () => {
      await Promise.all([...inFlight]);
    },
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return results;
    },
  };
}

/** Waits until `upstream` has answered `count` more requests (traffic really reaches it). */
async function served(upstream: Upstream, count: number): Promise<void> {
  const from = upstream.server.requests;
  await until(() => upstream.server.requests >= from + count, `${upstream.id} serves ${String(count)} requests`);
}

/**
 * Replaces every endpoint one by one under load, each old one removed with an answer in flight and
 * stopped only once drained, and checks nothing was lost.
 */
async function rollGently(forwarder: ForwarderOptions): Promise<void> {
  // Keep-alive upstreams whose answers end 0-4 ms after they start, so requests overlap each step.
  const upstream = () => startUpstream({ keepAlive: true, delayMs: () => Math.floor(Math.random() * 5) });
  const old = await Promise.all(Array.from({ length: N }, upstream));
  const target = followed(old);
  await until(() => target.pool.endpoints.length === N, 'the first set applied');
  const gateway = await startGateway(target.pool, forwarder);
  const traffic = load(gateway);
  await Promise.all(old.map((u) => served(u, 1)));

  let current = [...old];
  const fresh: Upstream[] = [];
  for (const leaving of old) {
    const joining = await upstream();
    fresh.push(joining);
    current = [...current, joining];
    expect((await roll(target, current)).added).toEqual([joining.id]);
    await served(joining, 5);
    // Answers take a while on the leaving endpoint, so it is removed with one in flight.
    leaving.delayMs = () => 20;
    await until(() => leaving.answering > 0, `an answer in flight on ${leaving.id}`);
    current = current.filter((u) => u !== leaving);
    expect((await roll(target, current)).removed).toEqual([leaving.id]);
    // Drained: no lease on a removed endpoint is left (the pool still counts them after removal).
    await until(() => drainingLeases(target.pool) === 0, `${leaving.id} drained`);
    await leaving.server.close();
  }
  await served(fresh[N - 1] as Upstream, 20);
  const results = await traffic.stop();

  expect(results.length).toBeGreaterThan(N * 20);
  expect(results.filter((r) => r.status !== 200)).toEqual([]);
  const live = new Set([...old, ...fresh].map((u) => u.id));
  expect(results.every((r) => r.id !== undefined && live.has(r.id))).toBe(true);
  expect(results.filter((r) => r.method === 'POST').every((r) => r.bytes === POST_BODY.length)).toBe(true);
  expect(results.filter((r) => r.method === 'POST').length).toBeGreaterThan(N);
  // Nothing failed on the way, so nothing was retried: one attempt per request.
  expect(gateway.attempts.filter((a) => a.outcome.status !== 200)).toEqual([]);
  expect(gateway.attempts).toHaveLength(results.length);
  // Every lease came back: the pool's count and each endpoint's are 0.
  const snapshot = target.pool.snapshot();
  expect(snapshot.inFlight).toBe(0);
  expect(snapshot.endpoints.map((e) => [e.endpoint.id, e.inFlight])).toEqual(fresh.map((u) => [u.id, 0]));
  expect(snapshot.endpoints.every((e) => !e.ejected && e.effectiveWeight === 1)).toBe(true);
}

describe('a rolling replacement of every endpoint under load', () => {
  test('old endpoints stopped once drained: no request or attempt fails, every lease completes', async () => {
    await rollGently({});
  });

  test('the same with 3 connection pools for 7 live endpoints: evicted pools close gracefully under load', async () => {
    await rollGently({ maxOrigins: 3 });
  });

  test('old endpoints closed right after removal: GETs cut there are retried elsewhere and succeed; POSTs never retried', async () => {
    const upstream = () => startUpstream({ keepAlive: true, delayMs: () => Math.floor(Math.random() * 5) });
    const old = await Promise.all(Array.from({ length: N }, upstream));
    const target = followed(old);
    await until(() => target.pool.endpoints.length === N, 'the first set applied');
    const gateway = await startGateway(target.pool);
    const traffic = load(gateway);
    await Promise.all(old.map((u) => served(u, 1)));

    let current = [...old];
    /** Attempts that failed during each step, and the endpoint that step closed. */
    const cuts: { closing: string; failed: string[] }[] = [];
    for (const leaving of old) {
      const from = gateway.attempts.length;
      const joining = await upstream();
      current = [...current, joining];
      await roll(target, current);
      await served(joining, 5);
      // Requests caught on the leaving endpoint when it goes: at least one GET is there, unanswered
      // (an answer already started could only be cut: none is left in flight).
      leaving.mode = 'hold';
      await until(
        () => (leaving.held.get('GET') ?? 0) >= 1 && leaving.answering === 0,
        `a GET held on ${leaving.id}, no answer streaming`,
      );
      current = current.filter((u) => u !== leaving);
      await roll(target, current);
      await leaving.server.close(); // at once: the held requests' connections are destroyed
      // Every request in flight at the cut has ended (retried or not) before the next step.
      await traffic.settled();
      const failed = gateway.attempts.slice(from).filter((a) => a.outcome.status !== 200);
      cuts.push({ closing: leaving.id, failed: failed.map((a) => a.endpoint) });
    }
    const results = await traffic.stop();

    // Idempotent requests cut on a closed endpoint were retried on another and all succeeded.
    expect(results.every((r) => r.error === undefined)).toBe(true);
    const gets = results.filter((r) => r.method === 'GET');
    expect(gets.filter((r) => r.status !== 200)).toEqual([]);
    // Each step cut attempts on the endpoint it closed and nowhere else.
    for (const { closing, failed } of cuts) {
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((id) => id === closing)).toBe(true);
    }
    const failedAttempts = gateway.attempts.filter((a) => a.outcome.status !== 200);
    expect(failedAttempts.every((a) => a.outcome.failure === 'reset' || a.outcome.failure === 'refused')).toBe(true);
    // Each cut GET (at least one per step) was sent once more, elsewhere, and answered.
    const cutGets = failedAttempts.filter((a) => a.method === 'GET');
    expect(cutGets.length).toBeGreaterThanOrEqual(N);
    const retried = gateway.attempts.filter((a) => a.method === 'GET' && a.attempt === 2);
    expect(retried).toHaveLength(cutGets.length);
    expect(retried.every((a) => a.outcome.status === 200)).toBe(true);
    // POSTs were never retried: each one cut is a 502, every other one a 200.
    const posts = results.filter((r) => r.method === 'POST');
    expect(gateway.attempts.filter((a) => a.method === 'POST' && a.attempt > 1)).toEqual([]);
    const cutPosts = failedAttempts.filter((a) => a.method === 'POST').length;
    expect(posts.filter((r) => r.status === 502)).toHaveLength(cutPosts);
    expect(posts.filter((r) => r.status === 200)).toHaveLength(posts.length - cutPosts);
    expect(target.pool.snapshot().inFlight).toBe(0);
  });
});
