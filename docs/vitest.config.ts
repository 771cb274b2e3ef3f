// The docs site's browser test, run after the site is built: `pnpm run docs:test` (in `pnpm verify`
// after `pnpm run docs:build`). Kept out of the root vitest projects so that `pnpm test` does not
// need a built site or a browser.
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const config: ViteUserConfig = defineConfig({
  test: {
    name: 'docs',
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

export default config;
