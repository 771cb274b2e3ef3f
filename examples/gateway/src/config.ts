import { SERVICES, type ServiceName } from './services.js';

/** What the example gateway reads from the environment. */
export interface GatewayConfig {
  /** Port the gateway listens on (`PORT`, default 8080; 0 picks a free one). */
  port: number;
  /** Interface to bind (`HOST`, default 127.0.0.1). */
  host: string;
  /** When set (`REDIS_URL`), limits, quotas and the canary are shared through Redis; otherwise they live in memory. */
  redisUrl: string | undefined;
  /**
   * A Redis Cluster's seed nodes (`REDIS_CLUSTER=127.0.0.1:7000,127.0.0.1:7001`), instead of
   * `REDIS_URL`. Default: none.
   */
  redisCluster: readonly { host: string; port: number }[] | undefined;
  /**
   * The services' instances, when another process runs them (`UPSTREAMS`, JSON such as
   * `{"users":["http://127.0.0.1:9001"],...}` naming every service): what `start:several` gives
   * each gateway. Default: this process starts three demo instances per service.
   */
  upstreams: Readonly<Record<ServiceName, readonly string[]>> | undefined;
  /** The canary's interval in ms (`CANARY_INTERVAL_MS`, default 10000). */
  canaryIntervalMs: number;
  /**
   * Browser origins allowed to call `/api` (`CORS_ORIGINS`, comma-separated, e.g.
   * `https://app.example.com,http://localhost:3000`); default `*`, any origin.
   */
  corsOrigins: '*' | readonly string[];
}

/** A setting in the environment that cannot be used; its message says what to fix, in one line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads the configuration, refusing a malformed value with a message that says what to fix.
 *
 * @throws ConfigError for a malformed `PORT` or `CORS_ORIGINS`.
 * @example
 * ```ts
 * const { port, host } = readConfig({ PORT: '9090' });
 * ```
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const port = Number(env['PORT'] ?? 8080);
  if (env['PORT'] === '' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, got ${JSON.stringify(env['PORT'])}`);
  }
  const redisUrl = env['REDIS_URL'];
  const cors = (env['CORS_ORIGINS'] ?? '*').trim();
  const corsOrigins =
    cors === '*' || cors === ''
      ? '*'
      : cors
          .split(',')
          .map((origin) => origin.trim())
          .filter((origin) => origin !== '');
  for (const origin of corsOrigins === '*' ? [] : corsOrigins) {
    if (!isOrigin(origin)) {
      throw new ConfigError(
        `CORS_ORIGINS must list origins such as https://app.example.com (scheme, host, port; no path), got ${JSON.stringify(origin)}`,
      );
    }
  }
  const interval = Number(env['CANARY_INTERVAL_MS'] ?? 10_000);
  if (!Number.isInteger(interval) || interval < 100 || interval > 3_600_000) {
    throw new ConfigError(
      `CANARY_INTERVAL_MS must be a whole number of ms from 100 to 3600000, got ${JSON.stringify(env['CANARY_INTERVAL_MS'])}`,
    );
  }
  const redisCluster = readCluster(env['REDIS_CLUSTER']);
  if (redisCluster !== undefined && redisUrl !== undefined && redisUrl !== '') {
    throw new ConfigError('set REDIS_URL or REDIS_CLUSTER, not both');
  }
  return {
    port,
    host: env['HOST'] ?? '127.0.0.1',
    redisUrl: redisUrl === '' ? undefined : redisUrl,
    redisCluster,
    upstreams: readUpstreams(env['UPSTREAMS']),
    canaryIntervalMs: interval,
    corsOrigins,
  };
}

/** `host:port,host:port` → seed nodes; undefined when unset or empty. */
function readCluster(value: string | undefined): { host: string; port: number }[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((part) => {
    const match = /^\s*([^\s:]+):(\d{1,5})\s*$/.exec(part);
    const port = Number(match?.[2]);
    if (match === null || !(port >= 1 && port <= 65_535)) {
      throw new ConfigError(`REDIS_CLUSTER must list host:port pairs separated by commas, got ${JSON.stringify(part)}`);
    }
    return { host: match[1] as string, port };
  });
}

/** `UPSTREAMS` JSON → every service's origins; undefined when unset. */
function readUpstreams(value: string | undefined): Record<ServiceName, string[]> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const shape = `UPSTREAMS must be JSON naming every service (${SERVICES.join(', ')}) with a list of http:// origins`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(`${shape}; it is not JSON`);
  }
  const upstreams = {} as Record<ServiceName, string[]>;
  for (const service of SERVICES) {
    const origins = (parsed as Record<string, unknown> | null)?.[service];
    if (!Array.isArray(origins) || origins.length === 0) throw new ConfigError(`${shape}; ${service} is missing`);
    upstreams[service] = origins.map((origin: unknown) => {
      if (typeof origin !== 'string' || !isOrigin(origin) || !origin.startsWith('http://')) {
        throw new ConfigError(`${shape}; ${JSON.stringify(origin)} is not one`);
      }
      return origin;
    });
  }
  return upstreams;
}

/** A bare `scheme://host[:port]`, as browsers send it in `Origin`. */
export function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}
