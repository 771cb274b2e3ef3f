/**
 * Fault suite, the JWKS: under a steady load of bearer-token requests (every request a fresh token,
 * so the verified-token cache cannot hide the keys), the JWKS server goes down for three times
 * its cache TTL. The verifier serves the last good key set past its expiry (stale-if-error,
 * `maxStaleMs`), so tokens keep verifying; once the server is back it is fetched again.
 *
 * In process: the example's `main.ts` verifies against its own demo issuer, so a testkit JWKS
 * server is put in front of the in-process gateway (`buildGateway` through the test harness),
 * with a 1 s TTL and failed fetches retried every 500 ms. That also lets the test see unhandled rejections and the RSS of the process.
 *
 * Budget: ~10 s (2 s before, 3 s down, 3 s after).
 */
import { createJwtVerifier } from '@portcullis/jwt-cache';
import { generateKeyPair, startJwksServer } from '@portcullis/testkit';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, test } from 'vitest';
import { DEMO_AUDIENCE } from '../../src/issuer.js';
import { startTestGateway, type TestGateway } from '../harness.js';
import { ANSWER_BOUND_MS, sleep, steadyLoad, summary, until } from './load.js';

const ISSUER = 'https://idp.faults.test/';
const TTL_MS = 1_000;

let gateway: TestGateway | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('fault suite: the JWKS', () => {
  test('the JWKS server down for 3× its cache TTL under load: every token still verifies, it is fetched again after', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    cleanups.push(() => {
      process.off('unhandledRejection', onRejection);
    });
    const key = generateKeyPair('ES256', 'faults-1');
    const jwks = await startJwksServer({ keys: [key.publicJwk] }, { headers: { 'cache-control': 'max-age=1' } });
    cleanups.push(() => jwks.close());
    const verifier = createJwtVerifier({
      issuers: { [ISSUER]: { jwks: jwks.url, audience: DEMO_AUDIENCE } },
      // A failed fetch is retried after errorRetryMs (10 s by default; 500 ms here, to keep the test short).
      jwks: { ttlMs: TTL_MS, minTtlMs: TTL_MS, refreshAheadMs: 200, fetchTimeoutMs: 500, errorRetryMs: 500 },
    });
    cleanups.push(() => {
      verifier.dispose();
    });
    gateway = await startTestGateway({ parts: { verifier } });
    // Served past expiry while the endpoint fails: counted, to show the outage was felt.
    let staleServes = 0;
    verifier.events.on('stale', () => {
      staleServes++;
    });
    let n = 0;
    const token = async (): Promise<Record<string, string>> => ({
      authorization: `Bearer ${await new SignJWT({ tier: 'enterprise', jti: String(++n) })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid })
        .setIssuer(ISSUER)
        .setSubject('faults')
        .setAudience(DEMO_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(key.privateKey)}`,
    });
    const rssBefore = process.memoryUsage().rss / 2 ** 20;

    const load = steadyLoad(`${gateway.base}/api/products`, token);
    await sleep(2_000);
    const faultAt = load.now();
    await jwks.behave({ kind: 'refuse' });
    await sleep(3 * TTL_MS);
    const faultEnded = load.now();
    await jwks.behave({ kind: 'ok' });
    const fetchesAtRestore = jwks.fetchCount;
    await until('the verifier to fetch the key set again', () => jwks.fetchCount > fetchesAtRestore, 10_000);
    await sleep(1_000);
    const outcomes = await load.stop();
    const rssAfter = process.memoryUsage().rss / 2 ** 20;

    const quota = await fetch(`${gateway.base}/api/quota`, { headers: await token() });
    const usage = (await quota.json()) as { dimensions: { name: string; remaining: number }[] };
    const used = 10_000_000 - (usage.dimensions.find((d) => d.name === 'daily')?.remaining ?? Number.NaN);

    const s = summary(outcomes);
    const during = outcomes.filter((o) => o.at >= faultAt && o.at < faultEnded);
    console.log(
      `[faults] jwks ${JSON.stringify({ ...s, duringFault: during.length, staleServes, used, rssMiB: [Math.round(rssBefore), Math.round(rssAfter)] })}`,
    );
    // Requests with fresh tokens ran all through the outage, and every one verified.
    expect(during.length).toBeGreaterThan(0);
    expect(staleServes).toBeGreaterThan(0);
    for (const o of outcomes) {
      expect(o.status, `request at ${String(o.at)} ms`).toBe(200);
      expect(o.ms).toBeLessThan(ANSWER_BOUND_MS);
    }
    // The in-memory store decides every request: the quota counted exactly those admitted.
    expect(used).toBe(outcomes.length);
    expect(rejections).toEqual([]);
    // The test process (vitest worker and gateway) grew by less than this during the run.
    expect(rssAfter - rssBefore).toBeLessThan(150);
  }, 30_000);
});
