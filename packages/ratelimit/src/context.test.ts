import { serveExpress, serveFastify } from '@portcullis/testkit/frameworks';
import { expect, expectTypeOf, onTestFinished, test } from 'vitest';
import { tokenBucket } from './algorithms/token-bucket.js';
import type { Decision } from './decision.js';
import { rateLimit as expressRateLimit } from './express.js';
import { rateLimit as fastifyRateLimit } from './fastify.js';
import { createRateLimiter } from './limiter.js';

// Importing the package types the context entry it adds: handlers read the decision without a cast.
const limiter = (): ReturnType<typeof createRateLimiter> =>
  createRateLimiter({ limits: { burst: tokenBucket({ capacity: 3, refillPerSecond: 1 }) } });

test('Express handlers read req.portcullis.rateLimit as a Decision', async () => {
  const server = await serveExpress((app) => {
    app.use(expressRateLimit({ limiter: limiter() }));
    app.get('/', (req, res) => {
      const decision = req.portcullis?.rateLimit;
      expectTypeOf(decision).toEqualTypeOf<Decision | undefined>();
      res.json({ remaining: decision?.remaining, allowed: decision?.allowed });
    });
  });
  onTestFinished(() => server.close());
  expect(await (await fetch(`${server.url}/`)).json()).toEqual({ remaining: 2, allowed: true });
  expect(await (await fetch(`${server.url}/`)).json()).toEqual({ remaining: 1, allowed: true });
});

test('Fastify handlers read request.portcullis.rateLimit as a Decision', async () => {
  const server = await serveFastify(async (app) => {
    await app.register(fastifyRateLimit({ limiter: limiter() }));
    app.get('/', (request) => {
      const decision = request.portcullis?.rateLimit;
      expectTypeOf(decision).toEqualTypeOf<Decision | undefined>();
      return { remaining: decision?.remaining };
    });
  });
  onTestFinished(() => server.close());
  expect(await (await fetch(`${server.url}/`)).json()).toEqual({ remaining: 2 });
});
