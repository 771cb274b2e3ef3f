// Checks every publishable package as a user would receive it (after `pnpm build`):
// - the tarball's file list (`npm pack --dry-run`): README, LICENSE, package.json and every file the
//   exports map and typesVersions name are in it; tests, test helpers and build configs are not;
// - publint --strict, and @arethetypeswrong/cli over every resolution profile it offers (node10,
//   node16 from CJS and from ESM, bundler), so a broken exports map fails `pnpm lint` before users see it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packagesDir = join(root, 'packages');
let failed = false;

/** Every file path a manifest points users at (exports conditions, typesVersions, main/module/types). */
function referencedFiles(manifest) {
  const found = new Set();
  const walk = (value) => {
    if (typeof value === 'string') {
      if (value.startsWith('./') && !value.startsWith('./src/')) found.add(value.slice(2));
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  walk(manifest.typesVersions);
  walk([manifest.main, manifest.module, manifest.types].map((p) => (p ? `./${p.replace(/^\.\//, '')}` : p)));
  return found;
}

function checkTarball(dir, manifest) {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const files = new Set(JSON.parse(output)[0].files.map((file) => file.path));
  const problems = [];
  for (const required of ['package.json', 'README.md', 'LICENSE', ...referencedFiles(manifest)]) {
    if (!files.has(required)) problems.push(`missing ${required}`);
  }
  for (const file of files) {
    if (/\.test\.ts$|(^|\/)test\/|^tsconfig|^tsup\.config|^typedoc\.json$/.test(file))
      problems.push(`should not ship ${file}`);
  }
  for (const field of ['description', 'license', 'repository', 'homepage', 'bugs', 'keywords', 'engines']) {
    if (manifest[field] === undefined) problems.push(`package.json has no "${field}"`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return files.size;
}

for (const name of readdirSync(packagesDir)) {
  const dir = join(packagesDir, name);
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.private) continue;
  try {
    const count = checkTarball(dir, manifest);
    console.log(`ok   tarball ${manifest.name} (${String(count)} files)`);
  } catch (error) {
    failed = true;
    console.error(`FAIL tarball ${manifest.name}\n${error.message}`);
  }
  for (const [tool, args] of [
    ['publint', ['--strict', '--pack', 'npm']],
    ['attw', ['--pack', '.', '--format', 'table-flipped']],
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
