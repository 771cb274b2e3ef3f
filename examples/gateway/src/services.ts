import { startDemoUpstream, type DemoUpstream } from './upstream.js';

/** The services behind the example gateway; `orders-v2` is the canary release of `orders`. */
export const SERVICES = ['users', 'products', 'orders', 'orders-v2'] as const;

/** One of {@link SERVICES}. */
export type ServiceName = (typeof SERVICES)[number];

/** Running demo instances of every service. */
export interface DemoFleet {
  /** Each service's instances, in order (`users-1`, `users-2`, …). */
  readonly services: Readonly<Record<ServiceName, readonly DemoUpstream[]>>;
  /** Every instance's origin, per service (what the upstream pools are built from). */
  origins(): Record<ServiceName, string[]>;
  close(): Promise<void>;
}

/**
 * Starts `instances` demo instances of each service on loopback ports: `users`, `products` and
 * `orders` run `v1`; `orders-v2` runs `v2` of orders, the release the canary moves traffic to.
 *
 * @example
 * ```ts
 * const fleet = await startDemoFleet();
 * fleet.services['orders-v2'].forEach((i) => i.setChaos({ errorRate: 0.5, latencyMs: 0 }));
 * await fleet.close();
 * ```
 */
export async function startDemoFleet(instances = 3): Promise<DemoFleet> {
  const started = await Promise.all(
    SERVICES.map(async (service) => {
      const collection = service === 'orders-v2' ? 'orders' : service;
      const version = service === 'orders-v2' ? 'v2' : 'v1';
      return Promise.all(
        Array.from({ length: instances }, (_, i) =>
          startDemoUpstream(collection, { instance: `${service}-${String(i + 1)}`, version }),
        ),
      );
    }),
  );
  const services = Object.fromEntries(SERVICES.map((service, i) => [service, started[i] ?? []])) as Record<
    ServiceName,
    DemoUpstream[]
  >;
  return {
    services,
    origins: () =>
      Object.fromEntries(SERVICES.map((service) => [service, services[service].map((u) => u.url)])) as Record<
        ServiceName,
        string[]
      >,
    close: async () => {
      await Promise.all(started.flat().map((u) => u.close()));
    },
  };
}
