import type { CanaryDecision, CanaryState, UpstreamPoolSnapshot } from '@portcullis/router';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CANARY_STEPS } from '../src/routes.js';
import type { ServiceName } from '../src/services.js';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;
const key = { 'x-api-key': 'demo-enterprise' };
const INTERVAL_MS = 1_000;

beforeAll(async () => {
  // Three instances per service; the canary judges each 1 s interval (manual clock) on 5 requests a side.
  gw = await startTestGateway({ instances: 3, routes: { intervalMs: INTERVAL_MS, minRequests: 5 } });
});

afterAll(async () => {
  await gw.close();
});

const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${gw.base}${path}`, { headers: { ...key, ...headers } });

const pool = async (service: ServiceName): Promise<UpstreamPoolSnapshot> =>
  ((await (await fetch(`${gw.base}/demo/pools`)).json()) as Record<ServiceName, UpstreamPoolSnapshot>)[service];

const canary = async (): Promise<{ state: CanaryState; lastDecision: CanaryDecision | null }> =>
  (await (await fetch(`${gw.base}/demo/canary`)).json()) as { state: CanaryState; lastDecision: CanaryDecision | null };

/** Which instance answered (the demo upstream says so in its body). */
async function instanceOf(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  return ((await res.json()) as { instance: string }).instance;
}

describe('routes, pools and the canary, composed', () => {
  test('each route goes to its own service, spread over its instances', async () => {
    const seen = new Map<string, Set<string>>();
    for (const service of ['users', 'products', 'orders'] as const) {
      const instances = new Set<string>();
      for (let i = 0; i < 30; i++) {
        instances.add(await instanceOf(await get(`/api/${service}`, { 'x-canary': 'never' })));
      }
      seen.set(service, instances);
    }
    for (const service of ['users', 'products', 'orders'] as const) {
      const instances = [...(seen.get(service) ?? [])];
      for (const name of instances) expect(name).toMatch(new RegExp(`^${service}-[123]$`));
      // Least-request over idle instances breaks ties at random: 30 requests reach more than one.
      expect(instances.length).toBeGreaterThan(1);
    }
    // Anything else under /api is the gateway's own 404, never forwarded.
    const nowhere = await get('/api/nowhere');
    expect(nowhere.status).toBe(404);
    expect(nowhere.headers.get('content-type')).toContain('application/problem+json');
  });

  test('a failing instance costs no read (retried elsewhere), is ejected, gets nothing, and comes back', async () => {
    await fetch(`${gw.base}/demo/upstream?service=users&instance=2&failing=true`, { method: 'POST' });
    const answered: string[] = [];
    for (let i = 0; i < 30; i++) answered.push(await instanceOf(await get('/api/users/1')));
    // Every read was answered by a healthy instance, although users-2 took some of the attempts.
    expect(answered.every((name) => name !== 'users-2')).toBe(true);
    const ejected = await pool('users');
    const second = gw.fleet?.services.users[1]?.url.replace('http://', '');
    const state = ejected.endpoints.find((e) => e.endpoint.id === second);
    expect(state?.ejected === true || state?.breaker === 'open').toBe(true);
    expect(ejected.available).toBe(2);

    // Healed, and past its ejection and open breaker: it takes requests again.
    await fetch(`${gw.base}/demo/upstream?service=users&instance=2&failing=false`, { method: 'POST' });
    gw.clock.advance(60_000);
    const back = new Set<string>();
    for (let i = 0; i < 40 && !back.has('users-2'); i++) back.add(await instanceOf(await get('/api/users/1')));
    expect(back.has('users-2')).toBe(true);
    expect((await pool('users')).available).toBe(3);
  });

  test('orders are split per customer, sticky, and x-canary pins either release', async () => {
    const versions = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const token = await gw.token(`shopper-${String(i)}`, 'enterprise');
      const first = (
        (await (await fetch(`${gw.base}/api/orders`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          version: string;
        }
      ).version;
      const again = (
        (await (await fetch(`${gw.base}/api/orders`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          version: string;
        }
      ).version;
      expect(again).toBe(first);
      versions.set(`shopper-${String(i)}`, first);
    }
    const v2 = [...versions.values()].filter((v) => v === 'v2').length;
    // 10 % of customers at the first step: some, far from all.
    expect(v2).toBeGreaterThan(0);
    expect(v2).toBeLessThan(20);
    expect(((await (await get('/api/orders', { 'x-canary': 'always' })).json()) as { version: string }).version).toBe(
      'v2',
    );
    expect(((await (await get('/api/orders', { 'x-canary': 'never' })).json()) as { version: string }).version).toBe(
      'v1',
    );
  });

  test('a bad v2 is rolled back by the controller on its own, and a restart starts the release over', async () => {
    expect((await canary()).state.percent).toBe(CANARY_STEPS[0]);
    const chaos = await fetch(`${gw.base}/demo/canary?errorRate=1`, { method: 'POST' });
    expect(chaos.status).toBe(200);
    // Two failed intervals (the threshold): v2 fails every request, v1 none.
    for (let interval = 0; interval < 3 && (await canary()).state.phase !== 'rolled-back'; interval++) {
      for (let i = 0; i < 6; i++) {
        expect((await get('/api/orders', { 'x-canary': 'always' })).status).toBeGreaterThanOrEqual(500);
        expect((await get('/api/orders', { 'x-canary': 'never' })).status).toBe(200);
      }
      gw.clock.advance(INTERVAL_MS);
    }
    const rolledBack = await canary();
    expect(rolledBack.state).toMatchObject({ phase: 'rolled-back', percent: 0 });
    expect(rolledBack.lastDecision).toMatchObject({ action: 'rollback', to: 0 });
    expect(rolledBack.lastDecision?.reason).toContain('error');
    // Nobody reaches v2 now but a tester who asks for it.
    for (let i = 0; i < 10; i++) {
      const token = await gw.token(`after-${String(i)}`, 'enterprise');
      const res = await fetch(`${gw.base}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await res.json()) as { version: string }).version).toBe('v1');
    }

    const restarted = await fetch(`${gw.base}/demo/canary?errorRate=0&restart=true`, { method: 'POST' });
    expect(restarted.status).toBe(200);
    expect((await canary()).state).toMatchObject({ phase: 'progressing', percent: CANARY_STEPS[0] });
  });
});
