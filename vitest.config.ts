import { readdirSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig, type TestProjectInlineConfiguration, type ViteUserConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through this export condition, so tests
// and the example apps run without a build step.
// (Only that condition is added: listing `import` here would make Node load the ESM build of CJS
// dependencies through require(), which breaks Express's router.)
const conditions = ['@portcullis/source', 'node', 'development|production'];

const TESTS = ['src/**/*.test.ts', 'test/**/*.test.ts'];
// Files that measure this process (its heap, say) run each in a fresh worker: with `isolate: false`
// (below) a worker carries on from the files it ran before, whose leftovers (a timer, a socket)
// would count in the measure.
const ALONE = ['src/**/*.alone.test.ts', 'test/**/*.alone.test.ts'];

function projectsIn(folder: string): TestProjectInlineConfiguration[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(`${folder}/${entry.name}/package.json`))
    .flatMap((entry) => {
      const root = `${folder}/${entry.name}`;
      const projects: TestProjectInlineConfiguration[] = [
        { extends: true, test: { name: root, root, include: TESTS, exclude: ALONE } },
      ];
      if (hasAloneTests(root)) {
        projects.push({ extends: true, test: { name: `${root} (alone)`, root, include: ALONE, isolate: true } });
      }
      return projects;
    });
}

function hasAloneTests(root: string): boolean {
  return ['src', 'test'].some(
    (dir) =>
      existsSync(`${root}/${dir}`) &&
      readdirSync(`${root}/${dir}`, { recursive: true, encoding: 'utf8' }).some((file) =>
        file.endsWith('.alone.test.ts'),
      ),
  );
}

const config: ViteUserConfig = defineConfig({
  ssr: { resolve: { conditions, externalConditions: ['@portcullis/source'] } },
  test: {
    projects: [...projectsIn('packages'), ...projectsIn('examples'), ...projectsIn('bench')],
    reporters: ['default', new URL('./scripts/summary-reporter.ts', import.meta.url).pathname],
    setupFiles: [new URL('./vitest.setup.ts', import.meta.url).pathname],
    // Test files of a worker share its module cache: importing each file's dependencies anew
    // (vitest's default) took 190 s of a 470 s run, 40 s without. No test relies on fresh module
    // state; fake timers are put back after each test (and by vitest.setup.ts after each file).
    isolate: false,
    // One worker per core, and at least two. Vitest's default in run mode is one fewer than the
    // cores: a single worker on a 2-core machine, where the suite took 413 s with the second core
    // mostly idle, as many files wait on timers, sockets and child processes. With two workers it
    // took 252 s (three: 246 s, four: 253 s).
    maxWorkers: Math.max(2, availableParallelism()),
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Unhandled rejections fail the run: "nothing becomes an unhandled rejection" is a contract.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});

export default config;
