import { decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;
let kidMisses: { kid: string | undefined; refetched: boolean }[];

beforeEach(async () => {
  gw = await startTestGateway();
  kidMisses = [];
  gw.verifier.events.on('kidMiss', ({ kid, refetched }) => {
    kidMisses.push({ kid, refetched });
  });
});

afterEach(async () => {
  await gw.close();
});

const rotate = async (): Promise<{ kid: string; pending?: string }> =>
  (await (await fetch(`${gw.base}/demo/rotate`, { method: 'POST' })).json()) as { kid: string; pending?: string };

const use = (token: string): Promise<Response> =>
  fetch(`${gw.base}/api/users`, { headers: { authorization: `Bearer ${token}` } });

describe('key rotation of the demo issuer', () => {
  test('rotating several times within the kid-miss cooldown never mints a token the gateway cannot verify', async () => {
    expect((await use(await gw.token('dave', 'pro'))).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      await rotate();
      const token = await gw.token('dave', 'pro');
      const res = await use(token);
      expect(res.status, await res.clone().text()).toBe(200);
    }
    // Minting with a key the gateway could already see: no token fell into the cooldown.
    expect(kidMisses.filter((miss) => !miss.refetched)).toEqual([]);
  });

  test('the next key is published ahead, and signs once the gateway has fetched the set with it', async () => {
    const source = gw.verifier.source(gw.issuer.url);
    const known = (): readonly string[] => source?.state().keys ?? [];
    expect((await use(await gw.token('erin', 'pro'))).status).toBe(200);
    const first = await rotate();
    expect(first.pending).toBeUndefined();
    // The key now signing was in the set the gateway fetched before the rotation.
    expect(known()).toContain(first.kid);
    expect(decodeProtectedHeader(await gw.token('erin', 'pro')).kid).toBe(first.kid);

    // A second rotation right away: its key has not reached the gateway yet, so it waits.
    const second = await rotate();
    expect(second.kid).toBe(first.kid);
    expect(second.pending).toEqual(expect.any(String));
    expect(known()).not.toContain(second.pending);
    expect((await use(await gw.token('erin', 'pro'))).status).toBe(200);

    // The gateway's next fetch (a scheduled refresh; forced here) carries the pending key, which then signs.
    await source?.refresh();
    expect(known()).toContain(second.pending);
    const token = await gw.token('erin', 'pro');
    expect(decodeProtectedHeader(token).kid).toBe(second.pending);
    expect((await use(token)).status).toBe(200);
    expect(kidMisses).toEqual([]);
  });

  test('a token signed with the key before a rotation keeps verifying (rotation grace)', async () => {
    const before = await gw.token('frank', 'pro');
    expect((await use(before)).status).toBe(200);
    await rotate();
    await gw.verifier.source(gw.issuer.url)?.refresh();
    await rotate();
    await gw.verifier.source(gw.issuer.url)?.refresh();
    expect((await use(before)).status).toBe(200);
  });
});
