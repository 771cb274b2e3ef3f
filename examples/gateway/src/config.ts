/** What the example gateway reads from the environment. */
export interface GatewayConfig {
  /** Port the gateway listens on (`PORT`, default 8080; 0 picks a free one). */
  port: number;
  /** Interface to bind (`HOST`, default 127.0.0.1). */
  host: string;
  /** When set (`REDIS_URL`), limits are shared through Redis; otherwise they live in memory. */
  redisUrl: string | undefined;
}

/** Reads the configuration, refusing a malformed port with a message that says what to fix. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const port = Number(env['PORT'] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be a whole number from 0 to 65535, got ${JSON.stringify(env['PORT'])}`);
  }
  const redisUrl = env['REDIS_URL'];
  return { port, host: env['HOST'] ?? '127.0.0.1', redisUrl: redisUrl === '' ? undefined : redisUrl };
}
