// Runs publint and @arethetypeswrong/cli on every publishable package (after `pnpm build`).
// Fails when either reports a problem, so `pnpm lint` catches a broken exports map before users do.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packagesDir = join(root, 'packages');
let failed = false;

for (const name of readdirSync(packagesDir)) {
  const dir = join(packagesDir, name);
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.private) continue;
  for (const [tool, args] of [
    ['publint', ['--strict', '--pack', 'npm']],
    ['attw', ['--pack', '.', '--profile', 'node16', '--format', 'table-flipped']],
  ]) {
    try {
      execFileSync(join(root, 'node_modules', '.bin', tool), args, { cwd: dir, stdio: 'pipe', encoding: 'utf8' });
      console.log(`ok   ${tool} ${manifest.name}`);
    } catch (error) {
      failed = true;
      console.error(`FAIL ${tool} ${manifest.name}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    }
  }
}
process.exit(failed ? 1 : 0);
