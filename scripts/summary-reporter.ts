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
    process.stdout.write(`\nvitest: ${String(passed)} passed, ${String(failed)} failed, ${String(skipped)} skipped\n`);
  }
}
