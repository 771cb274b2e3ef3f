import type { Clock } from '@portcullis/core';
import {
  createCanary,
  createRedisCanary,
  createRouteTable,
  createSplit,
  stickyKey,
  type CanaryDecision,
  type CanaryState,
  type RouteTable,
} from '@portcullis/router';
import type { Cluster, Redis } from 'ioredis';
import type { CustomerContext } from './auth.js';
import type { ServiceName } from './services.js';

/** The canary's shares, step by step (it starts at the first). */
export const CANARY_STEPS = [10, 25, 50, 100] as const;

/** The orders release: its state, its last decision, and the manual controls the demo exposes. */
export interface OrdersCanary {
  /** The canary's current state (share, phase, failed intervals); `undefined` before Redis answered once. */
  state(): CanaryState | undefined;
  /** The last decision it made (promote, hold, fail, rollback…), if any. */
  lastDecision(): CanaryDecision | undefined;
  /** Starts the release over from its first step (after a rollback). */
  restart(): Promise<void>;
  /** Stops its Redis sync timer (in memory: nothing). */
  close(): void;
}

/** The route table and what drives its split. */
export interface GatewayRoutes {
  readonly table: RouteTable;
  readonly canary: OrdersCanary;
  /** Which service's pool a matched route (and variant) goes to. */
  serviceOf(route: string, variant: string | undefined): ServiceName | undefined;
}

/** Options of {@link gatewayRoutes}. */
export interface GatewayRoutesOptions {
  /** Time for the canary's intervals (tests steer it). Default: the system clock. */
  clock?: Clock | undefined;
  /** One analysis (at most one step) per this many ms. Default 10,000: a demo you can watch. */
  intervalMs?: number | undefined;
  /** Requests per side per interval before a check judges. Default 20. */
  minRequests?: number | undefined;
  /** Share the canary through Redis (every gateway instance moves as one). Default: in memory. */
  redis?: Redis | Cluster | undefined;
}

/**
 * The example's routes under `/api`: `users`, `products` and `orders` (prefix mounts, every
 * method), `orders` split between `stable` (v1) and `canary` (v2). The split is sticky per
 * customer (the id authentication put in the context), `x-canary: always|never` overrides it, and
 * a canary controller moves v2 through {@link CANARY_STEPS}, comparing its error rate and p99
 * latency with v1's every interval, and rolls it back to 0 % on its own after two failed
 * intervals.
 *
 * @example
 * ```ts
 * const routes = gatewayRoutes({ intervalMs: 60_000 });
 * routes.table.match({ method: 'GET', path: '/api/orders/o1', header: () => undefined })?.route.name; // 'orders'
 * ```
 */
export function gatewayRoutes(options: GatewayRoutesOptions = {}): GatewayRoutes {
  const split = createSplit({
    name: 'orders',
    variants: [
      { name: 'stable', weight: 100 - CANARY_STEPS[0] },
      { name: 'canary', weight: CANARY_STEPS[0] },
    ],
    key: stickyKey({ user: (context) => (context as Partial<CustomerContext>).identity?.id }),
  });
  const canaryOptions = {
    name: 'orders-v2',
    split,
    steps: CANARY_STEPS,
    intervalMs: options.intervalMs ?? 10_000,
    minRequests: options.minRequests ?? 20,
    failureThreshold: 2,
    clock: options.clock,
  };
  let last: CanaryDecision | undefined;
  let canary: OrdersCanary;
  let recorder: { record: (variant: string, outcome: { status: number; durationMs: number }) => void };
  if (options.redis === undefined) {
    const local = createCanary(canaryOptions);
    local.events.on('decision', (decision) => {
      last = decision;
    });
    recorder = local;
    canary = {
      state: () => local.state(),
      lastDecision: () => last,
      restart: () => {
        local.restart('restarted from /demo/canary');
        return Promise.resolve();
      },
      close: () => undefined,
    };
  } else {
    // Every instance syncs a few times per interval (at most each second), so the analysis waits for
    // all of them (settleMs, 2 polls) well within the next interval.
    const pollMs = Math.max(50, Math.min(1_000, Math.floor(canaryOptions.intervalMs / 4)));
    const shared = createRedisCanary({ ...canaryOptions, redis: options.redis, pollMs });
    shared.events.on('decision', (decision) => {
      last = decision;
    });
    // Its first sync waits for the connection. A round that fails (Redis down) is reported as a
    // PortcullisWarning and tried again at the next poll; `onSyncError` would send it elsewhere.
    const redis = options.redis;
    let closed = false;
    if (redis.status === 'ready') shared.start();
    else
      redis.once('ready', () => {
        if (!closed) shared.start();
      });
    recorder = shared;
    canary = {
      state: () => shared.state(),
      lastDecision: () => last,
      restart: async () => {
        await shared.restart('restarted from /demo/canary');
      },
      close: () => {
        closed = true;
        shared.stop();
      },
    };
  }
  const table = createRouteTable([
    { name: 'users', path: '/api/users', prefix: true },
    { name: 'products', path: '/api/products', prefix: true },
    { name: 'orders', path: '/api/orders', prefix: true, split, canary: recorder },
  ]);
  return {
    table,
    canary,
    serviceOf(route, variant) {
      if (route === 'orders') return variant === 'canary' ? 'orders-v2' : 'orders';
      return route === 'users' || route === 'products' ? route : undefined;
    },
  };
}
