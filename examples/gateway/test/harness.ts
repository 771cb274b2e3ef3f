import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createJwtVerifier, type JwtVerifier } from '@portcullis/jwt-cache';
import type { RateLimiter } from '@portcullis/ratelimit';
import { ManualClock } from '@portcullis/testkit';
import type { FastifyInstance } from 'fastify';
import { buildGateway, type GatewayParts } from '../src/app.js';
import { DEMO_AUDIENCE, startDemoIssuer, type DemoIssuer } from '../src/issuer.js';
import { createPlanLimiter } from '../src/plans.js';
import { createServicePools, type ServicePools } from '../src/pools.js';
import { gatewayRoutes, type GatewayRoutes, type GatewayRoutesOptions } from '../src/routes.js';
import { SERVICES, startDemoFleet, type DemoFleet, type ServiceName } from '../src/services.js';

/** A gateway on a real socket with its demo issuer (and a demo fleet unless another upstream is given). */
export interface TestGateway extends AsyncDisposable {
  readonly base: string;
  readonly app: FastifyInstance;
  readonly issuer: DemoIssuer;
  readonly verifier: JwtVerifier;
  /** The demo instances, when the gateway forwards to them. */
  readonly fleet: DemoFleet | undefined;
  readonly pools: ServicePools;
  readonly routes: GatewayRoutes;
  /** The time of retry, ejections, breakers and the canary. */
  readonly clock: ManualClock;
  /** A bearer token from the gateway's `/demo/token`. */
  token(user: string, tier: string): Promise<string>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Every service forwards here (one instance each) instead of to a demo fleet. */
  upstreamUrl?: string;
  /** Instances per service of the demo fleet. Default 1. */
  instances?: number;
  limiter?: RateLimiter;
  /** Options of the routes (canary interval, minimum requests). */
  routes?: Omit<GatewayRoutesOptions, 'clock'>;
  /** Passed through to `buildGateway`. */
  parts?: Partial<GatewayParts>;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const fleet = options.upstreamUrl === undefined ? await startDemoFleet(options.instances ?? 1) : undefined;
  const url = options.upstreamUrl;
  const origins =
    fleet?.origins() ??
    (Object.fromEntries(SERVICES.map((service) => [service, [url ?? '']])) as Record<ServiceName, string[]>);
  const clock = new ManualClock(Date.now());
  // No active health checks: tests steer health through outcomes and the clock.
  const pools = createServicePools(origins, { clock, healthCheckIntervalMs: false });
  const routes = gatewayRoutes({ clock, ...options.routes });
  const issuer = await startDemoIssuer();
  const verifier = createJwtVerifier({ issuers: { [issuer.url]: { jwks: issuer.jwksUrl, audience: DEMO_AUDIENCE } } });
  const app = await buildGateway({
    limiter: options.limiter ?? createPlanLimiter(),
    verifier,
    issuer,
    pools,
    fleet,
    routes,
    clock,
    ...options.parts,
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await app.close();
    verifier.dispose();
    await issuer.close();
    await pools.close();
    await fleet?.close();
  };
  return {
    base,
    app,
    issuer,
    verifier,
    fleet,
    pools,
    routes,
    clock,
    token: async (user, tier) => {
      const res = await fetch(`${base}/demo/token?user=${user}&tier=${tier}`, { method: 'POST' });
      if (res.status !== 200) throw new Error(`/demo/token answered ${String(res.status)}`);
      return ((await res.json()) as { token: string }).token;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A raw HTTP exchange: what was received, byte for byte (fetch hides HEAD bodies and framing). */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Sends a request with `node:http`: `body` as one write (with its content-length), or `chunks` as
 * separate writes with chunked transfer encoding.
 */
export function rawRequest(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: Uint8Array;
    chunks?: readonly Uint8Array[];
    /** The request target exactly as sent (a URL would normalise `..` and `%2e%2e`). */
    rawPath?: string;
  } = {},
): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = String(init.body.byteLength);
    const { hostname, port, pathname, search } = new URL(url);
    const path = init.rawPath ?? `${pathname}${search}`;
    const req = httpRequest({ hostname, port, path, method: init.method ?? 'GET', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (init.chunks !== undefined) {
      req.setHeader('transfer-encoding', 'chunked');
      for (const chunk of init.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(init.body === undefined ? undefined : Buffer.from(init.body));
    }
  });
}
