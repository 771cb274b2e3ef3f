import type { Options } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

const config: Options = packageBuild({
  index: 'src/index.ts',
  prometheus: 'src/prometheus.ts',
  opentelemetry: 'src/opentelemetry.ts',
});

export default config;
