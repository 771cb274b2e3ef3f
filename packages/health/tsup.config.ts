import type { Options } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

const config: Options = packageBuild({
  index: 'src/index.ts',
  express: 'src/express.ts',
  fastify: 'src/fastify.ts',
  hono: 'src/hono.ts',
});

export default config;
