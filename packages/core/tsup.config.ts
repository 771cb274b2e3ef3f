import type { Options } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

const config: Options = packageBuild({
  index: 'src/index.ts',
  express: 'src/express/index.ts',
  fastify: 'src/fastify/index.ts',
  hono: 'src/hono/index.ts',
});

export default config;
