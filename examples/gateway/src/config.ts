/** What the example gateway reads from the environment. */
export interface GatewayConfig {
  /** Port the gateway listens on (`PORT`, default 8080; 0 picks a free one). */
  port: number;
  /** Interface to bind (`HOST`, default 127.0.0.1). */
  host: string;
  /** When set (`REDIS_URL`), limits are shared through Redis; otherwise they live in memory. */
  redisUrl: string | undefined;
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
  return {
    port,
    host: env['HOST'] ?? '127.0.0.1',
    redisUrl: redisUrl === '' ? undefined : redisUrl,
    corsOrigins,
  };
}

/** A bare `scheme://host[:port]`, as browsers send it in `Origin`. */
export function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}
