import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one closing line in the plain form CI tooling reads ("N passed, N failed, N skipped"),
 * after vitest's own report.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    // Modules that failed to load count as failures too, so a broken import cannot read as green.
    failed += testModules.filter((m) => m.state() === 'failed' && !m.children.size).length;
    // The slowest files, where the suite's time goes (the whole run should stay near 10 minutes).
    const slowest = [...testModules]
      .map((m) => ({ id: m.moduleId.replace(`${process.cwd()}/`, ''), ms: m.diagnostic().duration }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 10);
    process.stdout.write(
      `\nslowest test files: ${slowest.map(({ id, ms }) => `${id} ${(ms / 1000).toFixed(1)} s`).join(', ')}\n`,
    );
    process.stdout.write(`\nvitest: ${String(passed)} passed, ${String(failed)} failed, ${String(skipped)} skipped\n`);
  }
}
