import { createHash } from 'node:crypto';
import { createGatewayRequest } from '@portcullis/core';
import { describe, expect, test } from 'vitest';
import { createRateLimiter, fixedWindow, RedisStore, rateLimitGuard, type RateLimitKey } from '../src/index.js';
import { client, redis, useRedisServer } from './redis-fixture.js';

// API keys are credentials: whoever can list Redis keys (KEYS, SCAN, MONITOR, a dump) must not read
// them there. A header key is hashed unless the user asks for it readable.

let run = 0;
useRedisServer();

const SECRET = 'sk_live_{cust-42}_9f8e7d';

async function afterOneRequest(key: RateLimitKey, headers: Record<string, string>) {
  run++;
  const prefix = `${redis.prefix}ck${String(run)}`;
  const limiter = createRateLimiter({
    store: new RedisStore({ client }),
    prefix,
    timeoutMs: 5_000,
    limits: { daily: fixedWindow({ limit: 1, windowMs: 86_400_000 }) },
  });
  const seen: string[] = [];
  limiter.events.on('decision', ({ key: decided }) => seen.push(decided));
  const guard = rateLimitGuard({ limiter, key, allowList: ['vip-key'] });
  const request = createGatewayRequest({ method: 'GET', url: '/', header: (name) => headers[name], ip: '203.0.113.7' });
  const first = await guard(request);
  const second = await guard(request);
  return { first, second, seen, stored: await client.keys(`${prefix}*`) };
}

describe('a header key (a credential) on Redis', () => {
  test('is hashed by default: the raw value is in no Redis key name and no event', async () => {
    const { first, second, seen, stored } = await afterOneRequest({ header: 'x-api-key' }, { 'x-api-key': SECRET });
    expect([first.action, second.action]).toEqual(['continue', 'respond']); // one counter, enforced
    expect(stored.length).toBeGreaterThan(0);
    for (const name of [...stored, ...seen]) expect(name).not.toContain('sk_live');
    const digest = createHash('sha256').update(SECRET).digest('base64url');
    expect(stored.some((name) => name.includes(digest))).toBe(true);
  });

  test('stays readable with hash: false', async () => {
    const { stored } = await afterOneRequest({ header: 'x-tenant', hash: false }, { 'x-tenant': 'acme' });
    expect(stored.some((name) => name.endsWith(':acme'))).toBe(true);
  });

  test('allow-list entries are the raw values, hashed alike', async () => {
    const { first, second } = await afterOneRequest({ header: 'x-api-key' }, { 'x-api-key': 'vip-key' });
    expect([first.action, second.action]).toEqual(['continue', 'continue']);
  });
});
