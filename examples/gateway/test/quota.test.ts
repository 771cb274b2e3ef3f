import { startRedis, type RedisServer } from '@portcullis/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPlanLimiter } from '../src/plans.js';
import { startTestGateway, type TestGateway } from './harness.js';

interface Usage {
  customer: string;
  tier: string;
  dimensions: { name: string; limit: number; remaining: number; resetAt: string }[];
}

const quota = (gw: TestGateway, apiKey: string): Promise<Response> =>
  fetch(`${gw.base}/api/quota`, { headers: { 'x-api-key': apiKey } });

describe('the usage API', () => {
  describe('with limits in memory', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway();
    });
    afterAll(async () => {
      await gw.close();
    });

    test('is not limited by the limits it reports, and reading it charges nothing', async () => {
      const before = (await (await quota(gw, 'demo-free')).json()) as Usage;
      // More reads than the free tier's burst of 5.
      for (let i = 0; i < 6; i++) expect((await quota(gw, 'demo-free')).status).toBe(200);
      const after = (await (await quota(gw, 'demo-free')).json()) as Usage;
      const remaining = (usage: Usage, name: string): number | undefined =>
        usage.dimensions.find((d) => d.name === name)?.remaining;
      expect(remaining(after, 'daily')).toBe(remaining(before, 'daily'));
      expect(remaining(after, 'perSecond')).toBe(5);

      // The plan's own limit is spent on the API…
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        statuses.push((await fetch(`${gw.base}/api/products`, { headers: { 'x-api-key': 'demo-free' } })).status);
      }
      expect(statuses).toContain(429);
      // …and the usage API still answers, showing it.
      const spent = await quota(gw, 'demo-free');
      expect(spent.status).toBe(200);
      expect(remaining((await spent.json()) as Usage, 'perSecond')).toBe(0);
    });

    test('has a limit of its own, apart from the plan’s, so polling it cannot hammer the store', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await quota(gw, 'demo-pro')).status);
      expect(statuses[0]).toBe(200);
      expect(statuses).toContain(429);
      const limited = await quota(gw, 'demo-pro');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The plan's limits are untouched by it.
      expect((await fetch(`${gw.base}/api/products`, { headers: { 'x-api-key': 'demo-pro' } })).status).toBe(200);
    });
  });

  describe('with limits in Redis', () => {
    let redis: RedisServer;
    let gw: TestGateway;
    beforeAll(async () => {
      redis = await startRedis({ ignoreRedisUrl: true });
      // As main.ts connects: no offline queue, so commands fail at once while Redis is away.
      const client = redis.createClient({ enableOfflineQueue: false, maxRetriesPerRequest: 0 });
      client.on('error', () => {
        // Expected once the server is killed; the limiter reports it as a store error.
      });
      if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
      gw = await startTestGateway({ limiter: createPlanLimiter(client) });
    });
    afterAll(async () => {
      await gw.close();
      await redis.stop();
    });

    test('says usage is unavailable while Redis is down, instead of showing a fail-open guess as usage', async () => {
      const up = await quota(gw, 'demo-pro');
      expect(up.status).toBe(200);
      const usage = (await up.json()) as Usage;
      expect(usage.dimensions.map((d) => d.name)).toEqual(['perSecond', 'daily', 'monthly']);

      await redis.kill();
      const down = await quota(gw, 'demo-pro');
      expect(down.status).toBe(503);
      expect(down.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const problem = (await down.json()) as { status: number; detail: string };
      expect(problem.status).toBe(503);
      expect(problem.detail).toMatch(/usage/i);
      // The API itself fails open (the plans say so): requests still go through.
      expect((await fetch(`${gw.base}/api/products`, { headers: { 'x-api-key': 'demo-pro' } })).status).toBe(200);

      await redis.restart();
      let back = 0;
      for (let i = 0; i < 100 && back !== 200; i++) {
        back = (await quota(gw, 'demo-pro')).status;
        if (back !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(back).toBe(200);
    });
  });
});
