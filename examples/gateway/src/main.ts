import { createJwtVerifier } from '@portcullis/jwt-cache';
import { Redis } from 'ioredis';
import { buildGateway } from './app.js';
import { readConfig } from './config.js';
import { DEMO_AUDIENCE, startDemoIssuer } from './issuer.js';
import { createPlanLimiter } from './plans.js';
import { startDemoUpstream } from './upstream.js';

const config = readConfig();
const redis = config.redisUrl === undefined ? undefined : new Redis(config.redisUrl, { enableOfflineQueue: false });
redis?.on('error', (error: Error) => {
  console.error(`[gateway] redis: ${error.message} (limits fail open until it is back)`);
});
const upstream = await startDemoUpstream();
const issuer = await startDemoIssuer();
const verifier = createJwtVerifier({ issuers: { [issuer.url]: { jwks: issuer.jwksUrl, audience: DEMO_AUDIENCE } } });
const gateway = await buildGateway({
  limiter: createPlanLimiter(redis),
  verifier,
  issuer,
  upstreamUrl: upstream.url,
  setUpstreamFailing: (failing) => {
    upstream.setFailing(failing);
  },
});
const address = await gateway.listen({ port: config.port, host: config.host });

console.log(`Portcullis example gateway on ${address} (limits in ${redis === undefined ? 'memory' : 'Redis'})
  upstream:   ${upstream.url}
  issuer:     ${issuer.url} (JWKS at ${issuer.jwksUrl})
  token:      TOKEN=$(curl -s -X POST '${address}/demo/token?user=alice&tier=pro' | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')
              curl -s ${address}/api/users/1 -H "authorization: Bearer $TOKEN" -H 'x-portcullis-user: mallory'
  rotate:     curl -s -X POST ${address}/demo/rotate   (old tokens keep verifying during the rotation grace)
  api key:    curl -i ${address}/api/users -H 'x-api-key: demo-free'
  usage:      curl -s ${address}/api/quota -H 'x-api-key: demo-pro'
  burst it:   for i in $(seq 8); do curl -s -o /dev/null -w '%{http_code} ' ${address}/api/products -H 'x-api-key: demo-free'; done
  breaker:    curl -s -X POST '${address}/demo/upstream?failing=true'; then GET /api/users a few times:
              cached answers (x-portcullis-served-by: cache), the breaker opens (GET /demo/breaker),
              unseen paths get a fast 503 with Retry-After; ?failing=false and it closes again
  health:     curl ${address}/health`);

async function shutdown(signal: string): Promise<void> {
  console.log(`[gateway] ${signal}: closing`);
  await gateway.close();
  verifier.dispose();
  await issuer.close();
  await upstream.close();
  redis?.disconnect();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void shutdown(signal);
  });
}
