import { request } from 'undici';
import { startDemoUpstream, type DemoChaos } from './upstream.js';

/** The services behind the example gateway; `orders-v2` is the canary release of `orders`. */
export const SERVICES = ['users', 'products', 'orders', 'orders-v2'] as const;

/** One of {@link SERVICES}. */
export type ServiceName = (typeof SERVICES)[number];

/** One demo instance, as the gateway's chaos switches see it (in this process or another). */
export interface DemoInstance {
  readonly url: string;
  /** Its name (`orders-v2-1`). */
  readonly instance: string;
  /** See `DemoUpstream.setFailing`. */
  setFailing(failing: boolean): Promise<void>;
  /** See `DemoUpstream.setChaos`. */
  setChaos(chaos: DemoChaos): Promise<void>;
}

/** Demo instances of every service. */
export interface DemoFleet {
  /** Each service's instances, in order (`users-1`, `users-2`, …). */
  readonly services: Readonly<Record<ServiceName, readonly DemoInstance[]>>;
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
  const services = Object.fromEntries(
    SERVICES.map((service, i) => [
      service,
      (started[i] ?? []).map((u): DemoInstance => ({
        url: u.url,
        instance: u.instance,
        setFailing: (failing) => {
          u.setFailing(failing);
          return Promise.resolve();
        },
        setChaos: (chaos) => {
          u.setChaos(chaos);
          return Promise.resolve();
        },
      })),
    ]),
  ) as Record<ServiceName, DemoInstance[]>;
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

/**
 * A fleet another process runs (see `startSeveral`), controlled over HTTP through each
 * instance's `POST /_demo/chaos`: what every gateway of several uses, so that a chaos switch
 * pulled on one gateway reaches the instances all of them share.
 *
 * @example
 * ```ts
 * const fleet = remoteFleet({ users: ['http://127.0.0.1:9001'], products: [], orders: [], 'orders-v2': [] });
 * await fleet.services.users[0]?.setFailing(true);
 * ```
 */
export function remoteFleet(origins: Readonly<Record<ServiceName, readonly string[]>>): DemoFleet {
  const control = async (url: string, query: string): Promise<void> => {
    const res = await request(`${url}/_demo/chaos?${query}`, { method: 'POST' });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`${url} refused the chaos switch (${String(res.statusCode)})`);
  };
  const services = Object.fromEntries(
    SERVICES.map((service) => [
      service,
      origins[service].map((url, i): DemoInstance => ({
        url,
        instance: `${service}-${String(i + 1)}`,
        setFailing: (failing) => control(url, `failing=${String(failing)}`),
        setChaos: (chaos) => control(url, `errorRate=${String(chaos.errorRate)}&latencyMs=${String(chaos.latencyMs)}`),
      })),
    ]),
  ) as Record<ServiceName, DemoInstance[]>;
  return {
    services,
    origins: () =>
      Object.fromEntries(SERVICES.map((service) => [service, [...origins[service]]])) as Record<ServiceName, string[]>,
    close: () => Promise.resolve(),
  };
}
