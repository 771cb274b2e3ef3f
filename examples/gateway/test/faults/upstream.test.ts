/**
 * Fault suite, the upstreams: under a steady load through a spawned gateway (`src/main.ts` with
 * `UPSTREAMS`), one of the three `products` instances flaps (its listener goes away and comes back
 * every 300 ms) or hangs (accepts requests and never answers). Reads are retried once on another
 * instance, each attempt given 2 s; the pool's health checks, outlier ejection and breakers take
 * the bad instance out.
 *
 * Budget: ~15 s a test (gateway start ~3 s, 2 s before, 5 s of fault, 3 s after).
 */
import type { ServerResponse } from 'node:http';
import { startHttpServer, type HttpServer } from '@portcullis/testkit';
import { afterEach, describe, expect, test } from 'vitest';
import { SERVICES } from '../../src/services.js';
import { ANSWER_BOUND_MS, sleep, spawnGateway, steadyLoad, summary, type GatewayProcess } from './load.js';

const enterprise = { 'x-api-key': 'demo-enterprise' };
const RSS_BOUND_MIB = 400;
/** What the gateway may answer while an instance misbehaves (documented: retry, then 502/503/504). */
const DOCUMENTED = new Set([200, 502, 503, 504]);

let gateway: GatewayProcess | undefined;
const servers: HttpServer[] = [];
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  for (const server of servers.splice(0)) await server.close();
}, 30_000);

function healthy(name: string) {
  return (request: { url?: string | undefined; resume(): void }, response: ServerResponse): void => {
    request.resume();
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ instance: name, data: request.url === '/health' ? 'pass' : [] }));
  };
}

/** Three products instances (the first one the faulty one) and one healthy instance for each other service. */
async function fleet(): Promise<{ faulty: HttpServer; upstreams: string }> {
  const products = await Promise.all(
    ['products-1', 'products-2', 'products-3'].map((n) => startHttpServer(healthy(n))),
  );
  servers.push(...products);
  const upstreams: Record<string, string[]> = { products: products.map((s) => s.url) };
  for (const service of SERVICES.filter((s) => s !== 'products')) {
    const server = await startHttpServer(healthy(service));
    servers.push(server);
    upstreams[service] = [server.url];
  }
  return { faulty: products[0] as HttpServer, upstreams: JSON.stringify(upstreams) };
}

/** Quota accounting with the in-memory store: exactly the requests admitted. */
async function dailyUsed(base: string): Promise<number> {
  const res = await fetch(`${base}/api/quota`, { headers: enterprise });
  const usage = (await res.json()) as { dimensions: { name: string; remaining: number; limit?: number }[] };
  return 10_000_000 - (usage.dimensions.find((d) => d.name === 'daily')?.remaining ?? Number.NaN);
}

describe('fault suite: the upstreams', () => {
  for (const fault of ['flapping', 'hanging'] as const) {
    test(`one products instance ${fault} under load: every request answered in time with a documented status, quotas exact, recovery`, async () => {
      const { faulty, upstreams } = await fleet();
      gateway = await spawnGateway({ UPSTREAMS: upstreams });
      const load = steadyLoad(`${gateway.base}/api/products`, () => enterprise);
      await sleep(2_000);
      const faultAt = load.now();
      const before = faulty.requests;
      let flapper: NodeJS.Timeout | undefined;
      if (fault === 'flapping') {
        let up = true;
        let toggling = Promise.resolve();
        flapper = setInterval(() => {
          up = !up;
          toggling = toggling.then(() => (up ? faulty.resumeListening() : faulty.stopListening()));
        }, 300);
        await sleep(5_000);
        clearInterval(flapper);
        await toggling;
        await faulty.resumeListening();
      } else {
        // Accepts the request, reads it, never answers.
        faulty.setHandler((request) => {
          request.resume();
        });
        await sleep(5_000);
        faulty.setHandler(healthy('products-1'));
      }
      const faultEnded = load.now();
      const hit = faulty.requests - before;
      await sleep(3_000);
      const outcomes = await load.stop();
      const used = await dailyUsed(gateway.base);

      const s = summary(outcomes);
      const during = outcomes.filter((o) => o.at >= faultAt && o.at < faultEnded);
      const servedAfter = [...new Set(outcomes.filter((o) => o.at > faultEnded).map((o) => o.instance))];
      console.log(
        `[faults] ${fault} ${JSON.stringify({ ...s, faultyInstanceRequests: hit, servedAfter, duringFault: summary(during).statuses, used, rssMiB: Math.round(gateway.peakRssMiB()) })}`,
      );
      // The fault was felt: the gateway sent the faulty instance requests during it.
      expect(hit).toBeGreaterThan(0);
      expect(gateway.child.exitCode).toBeNull();
      expect(gateway.errors()).not.toMatch(/unhandled|uncaught|TypeError|RangeError/i);
      for (const o of outcomes) {
        expect(DOCUMENTED.has(o.status as number), `request at ${String(o.at)} ms: ${String(o.status)}`).toBe(true);
        expect(o.ms).toBeLessThan(ANSWER_BOUND_MS);
      }
      // Two healthy instances of three: retry on another instance makes nearly every read a 200.
      expect(during.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(Math.floor(during.length * 0.9));
      // Recovery: the last second is all 200.
      const last = outcomes.at(-1)?.at ?? 0;
      for (const o of outcomes.filter((x) => x.at > last - 1_000)) expect(o.status).toBe(200);
      // The in-memory store decides every request: the quota counted exactly those admitted.
      expect(used).toBe(outcomes.length);
      expect(gateway.peakRssMiB()).toBeLessThan(RSS_BOUND_MIB);
    }, 60_000);
  }
});
