import { fastify } from 'fastify';
import { expect, onTestFinished, test } from 'vitest';
import { rateLimit } from './fastify.js';

test('registering the factory itself as the plugin fails with the right form in the message', async () => {
  const app = fastify();
  onTestFinished(() => app.close());
  // The Fastify habit: app.register(plugin, options). The factory must be called instead.
  const misuse = app.register(rateLimit as never, {});
  await expect(misuse).rejects.toMatchObject({
    code: 'ERR_PORTCULLIS_INVALID_OPTION',
    message: expect.stringContaining('await app.register(rateLimit({ limiter }))') as unknown,
  });
});
