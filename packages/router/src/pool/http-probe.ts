import { Agent, request } from 'undici';
import { expectedStatus, type HealthCheckSettings } from './active-health-check.js';
import type { CheckFunction } from './health-checker.js';
import type { UpstreamTlsOptions } from './tls.js';

/** The HTTP check and the connections it holds. */
export interface HttpProbe {
  readonly check: CheckFunction;
  /** Closes the check's connections at once (in-flight checks fail). */
  close(): Promise<void>;
}

/** Bytes of a check's response body read at most before the connection is dropped. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The default active check: `method path` on the endpoint's origin through undici, passing on an
 * expected status. The pool's own undici `Agent` holds at most one connection per endpoint,
 * reused while the endpoint keeps it alive (checks should not share the forwarder's connection
 * pool, whose limits they would then observe), and is closed with the pool. Its timeout is the
 * pool scheduler's: the signal aborts.
 */
export function httpProbe(settings: HealthCheckSettings, tls: UpstreamTlsOptions | undefined): HttpProbe {
  const agent = new Agent({
    connections: 1,
    pipelining: 1,
    ...(tls === undefined ? {} : { connect: { ...tls } }),
  });
  const headers = { ...settings.headers, 'user-agent': settings.headers['user-agent'] ?? 'portcullis-health-check' };
  return {
    check: async function httpHealthCheck(endpoint, signal): Promise<string | undefined> {
      const response = await request(endpoint.origin + settings.path, {
        method: settings.method,
        headers,
        signal,
        dispatcher: agent,
      });
      // The body is not read for its content, only drained so the connection can be reused.
      await response.body.dump({ limit: MAX_BODY_BYTES });
      return expectedStatus(response.statusCode, settings.expected)
        ? undefined
        : `status ${String(response.statusCode)}`;
    },
    close: async function close(): Promise<void> {
      await agent.destroy();
    },
  };
}
