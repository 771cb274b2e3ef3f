import type { Options } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// The framework entry points (express, fastify, hono) join when the HTTP guard lands.
const config: Options = packageBuild({
  index: 'src/index.ts',
});

export default config;
