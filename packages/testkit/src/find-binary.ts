import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TestkitError } from './errors.js';

/**
 * The Redis executables the testkit runs.
 *
 * @example
 * ```ts
 * const name: RedisBinary = 'redis-cli';
 * ```
 */
export type RedisBinary = 'redis-server' | 'redis-cli';

const INSTALL_HINTS: Record<RedisBinary, string> = {
  'redis-server': 'install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)',
  'redis-cli': 'install it with `apt-get install redis-tools` (Debian/Ubuntu) or `brew install redis` (macOS)',
};

/**
 * The absolute path of a Redis executable. `explicitPath` wins when given; otherwise `PATH` is read
 * at call time (not at import), so a test can change `process.env.PATH` to simulate a machine
 * without Redis. Throws a {@link TestkitError} `ERR_TESTKIT_BINARY_NOT_FOUND` with an install hint.
 *
 * @example
 * ```ts
 * const redisServer = findRedisBinary('redis-server', undefined, { mentionRedisUrl: true });
 * ```
 */
export function findRedisBinary(
  name: RedisBinary,
  explicitPath: string | undefined,
  { mentionRedisUrl }: { mentionRedisUrl: boolean },
): string {
  if (explicitPath !== undefined) {
    if (isExecutableFile(explicitPath)) return explicitPath;
    throw new TestkitError(
      'ERR_TESTKIT_BINARY_NOT_FOUND',
      `${name} not found at ${explicitPath} (not an executable file); ${INSTALL_HINTS[name]}` +
        (mentionRedisUrl ? ', or set REDIS_URL=redis://host:port to use an existing server.' : '.'),
    );
  }
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new TestkitError(
    'ERR_TESTKIT_BINARY_NOT_FOUND',
    `${name} not found on PATH; ${INSTALL_HINTS[name]}` +
      (mentionRedisUrl ? ', or set REDIS_URL=redis://host:port to use an existing server.' : '.'),
  );
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
