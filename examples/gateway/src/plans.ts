import {
  createRateLimiter,
  fixedWindow,
  MemoryStore,
  RedisStore,
  tokenBucket,
  type RateLimiter,
} from '@portcullis/ratelimit';
import type { Cluster, Redis } from 'ioredis';

/** Who is calling, and which plan applies: from an API key or a verified token. */
export interface Customer {
  /** Rate limits and quotas are kept per id. */
  readonly id: string;
  /** The plan: `free`, `pro` or `enterprise` (another value is refused with a 400 by the limiter). */
  readonly tier: string;
  readonly team: string;
}

/** Demo API keys (a real gateway would look them up). */
export const API_KEYS: Readonly<Record<string, Customer>> = {
  'demo-free': { id: 'key:demo-free', tier: 'free', team: 'hobbyists' },
  'demo-pro': { id: 'key:demo-pro', tier: 'pro', team: 'acme' },
  'demo-enterprise': { id: 'key:demo-enterprise', tier: 'enterprise', team: 'globex' },
};

const zone = 'UTC';

/**
 * Per-tier limits: a per-second bucket for bursts plus calendar day and month quotas, all enforced
 * in one atomic step (a request denied by any of them is charged to none). Free-tier numbers are
 * small so the demo shows a 429 after a few requests.
 */
export function createPlanLimiter(redis?: Redis | Cluster): RateLimiter {
  return createRateLimiter({
    store: redis === undefined ? new MemoryStore({ maxKeys: 100_000 }) : new RedisStore({ client: redis }),
    tiers: {
      free: {
        perSecond: tokenBucket({ capacity: 5, refillPerSecond: 1 }),
        daily: fixedWindow({ limit: 100, calendar: 'day', timeZone: zone }),
        monthly: fixedWindow({ limit: 1_000, calendar: 'month', timeZone: zone }),
      },
      pro: {
        perSecond: tokenBucket({ capacity: 50, refillPerSecond: 20 }),
        daily: fixedWindow({ limit: 100_000, calendar: 'day', timeZone: zone, overage: 10_000 }),
        monthly: fixedWindow({ limit: 1_000_000, calendar: 'month', timeZone: zone }),
      },
      enterprise: {
        perSecond: tokenBucket({ capacity: 500, refillPerSecond: 200 }),
        daily: fixedWindow({ limit: 10_000_000, calendar: 'day', timeZone: zone }),
        monthly: fixedWindow({ limit: 100_000_000, calendar: 'month', timeZone: zone }),
      },
    },
    // Quotas that decide billing fail closed; the demo favours availability.
    failMode: 'open',
  });
}
