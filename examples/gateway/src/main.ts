import { isInvalidOptionError } from '@portcullis/core';
import { createShutdown } from '@portcullis/health';
import { createJwtVerifier } from '@portcullis/jwt-cache';
import type { FastifyInstance } from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { buildGateway } from './app.js';
import { ConfigError, readConfig } from './config.js';
import { DEMO_AUDIENCE, startDemoIssuer } from './issuer.js';
import { demoSteps, formatDemoSteps } from './demo-steps.js';
import { gatewayHealth } from './health.js';
import { createPlanLimiter } from './plans.js';
import { createServicePools } from './pools.js';
import { gatewayRoutes } from './routes.js';
import { remoteFleet, startDemoFleet } from './services.js';

/** A failure to start that the user can fix: printed as one line, without a stack trace. */
class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** What `listen` failing means, in one line that says what to do. */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host}:${String(port)}`;
  if (code === 'EADDRINUSE') {
    return new StartupError(
      `cannot listen on ${where}: the address is already in use (another gateway running?); stop it or set PORT=<another port>`,
    );
  }
  if (code === 'EACCES')
    return new StartupError(`cannot listen on ${where}: permission denied; set PORT=<a port above 1023>`);
  if (code === 'EADDRNOTAVAIL') return new StartupError(`cannot listen on ${where}: no such local address; check HOST`);
  return error;
}

async function main(): Promise<void> {
  const config = readConfig();
  const redis =
    config.redisCluster !== undefined
      ? new Cluster([...config.redisCluster], { enableOfflineQueue: false })
      : config.redisUrl === undefined
        ? undefined
        : new Redis(config.redisUrl, { enableOfflineQueue: false });
  redis?.on('error', (error: Error) => {
    console.error(`[gateway] redis: ${error.message} (limits fail open until it is back)`);
  });
  // Several gateways (start:several) share one fleet another process runs; alone, start our own.
  const fleet = config.upstreams === undefined ? await startDemoFleet(3) : remoteFleet(config.upstreams);
  const pools = createServicePools(fleet.origins());
  const routes = gatewayRoutes({ redis, intervalMs: config.canaryIntervalMs });
  const health = gatewayHealth({ pools, canary: routes.canary, redis });
  const issuer = await startDemoIssuer();
  const verifier = createJwtVerifier({ issuers: { [issuer.url]: { jwks: issuer.jwksUrl, audience: DEMO_AUDIENCE } } });
  const closeDemoParts = async (): Promise<void> => {
    verifier.dispose();
    await issuer.close();
    await pools.close();
    await fleet.close();
    redis?.disconnect();
  };

  let gateway: FastifyInstance | undefined;
  let address: string;
  try {
    gateway = await buildGateway({
      health,
      limiter: createPlanLimiter(redis),
      verifier,
      issuer,
      pools,
      fleet,
      routes,
      cors: { origins: config.corsOrigins },
    });
    address = await gateway.listen({ port: config.port, host: config.host });
  } catch (error) {
    await gateway?.close();
    health.dispose();
    await closeDemoParts();
    throw listenError(error, config.host, config.port);
  }
  const started = gateway;

  const instances = (service: keyof typeof fleet.services): string =>
    fleet.services[service].map((u) => u.url.replace('http://', '')).join(' ');
  console.log(`Portcullis example gateway on ${address} (limits and canary in ${redis === undefined ? 'memory' : redis instanceof Cluster ? 'Redis Cluster' : 'Redis'})
  upstreams:  users ${instances('users')} | products ${instances('products')}
              orders v1 ${instances('orders')} | orders v2 (canary) ${instances('orders-v2')}
  issuer:     ${issuer.url} (JWKS at ${issuer.jwksUrl})
${formatDemoSteps(demoSteps(address))}
  stop:       Ctrl-C, or kill ${String(process.pid)} (or the PID of the command that started it)`);

  // Graceful shutdown (@portcullis/health): readiness fails at once, a short drain, requests in
  // flight finish, then the closers run, last registered first, within their deadline.
  const shutdown = createShutdown({
    health,
    servers: [started.server],
    // The gateway takes the signals itself (below), so that repeated ones do not force the exit.
    signals: [],
    drainDelayMs: 1_000,
    requestTimeoutMs: 5_000,
    closeTimeoutMs: 5_000,
  });
  shutdown.addCloser('demo services, issuer and Redis', closeDemoParts);
  shutdown.addCloser('health', () => {
    health.dispose();
  });
  shutdown.addCloser('gateway', () => started.close());
  shutdown.events.on('closer', ({ name, outcome }) => {
    if (outcome !== 'closed') console.error(`[gateway] closing ${name}: ${outcome}`);
  });
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // A terminal's Ctrl-C reaches this process more than once (its process group, and pnpm passing
    // it on): one shutdown answers all of them; it exits 0 when everything closed in time, else 1.
    if (closing) return;
    closing = true;
    console.log(`[gateway] ${signal}: closing`);
    void shutdown.start(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((error: unknown) => {
  if (error instanceof StartupError || error instanceof ConfigError || isInvalidOptionError(error)) {
    console.error(`[gateway] ${error.message}`);
  } else {
    console.error('[gateway] failed to start:', error);
  }
  process.exit(1);
});
