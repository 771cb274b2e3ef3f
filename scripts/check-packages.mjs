// Checks every publishable package as a user would receive it (after `pnpm build`):
// - the tarball's file list: README, LICENSE, package.json and every file the
//   exports map and typesVersions name are in it; tests, test helpers and build configs are not;
// - publint --strict, and @arethetypeswrong/cli over every resolution profile it offers (node10,
//   node16 from CJS and from ESM, bundler), so a broken exports map fails `pnpm lint` before users see it.
// Each package is packed once, into a temporary directory, and both tools read that tarball: packing
// in the package's own directory (what `attw --pack` does) leaves a .tgz there for a moment, which a
// check running beside this one (prettier, which lists the tree first) then fails to read.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packagesDir = join(root, 'packages');
const tarballs = mkdtempSync(join(tmpdir(), 'portcullis-check-packages-'));
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

/** Packs the package into the temporary directory; returns the tarball's path and file list. */
function pack(dir) {
  const output = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const [result] = JSON.parse(output);
  return { tarball: join(tarballs, result.filename), files: new Set(result.files.map((file) => file.path)) };
}

function checkTarball(files, manifest) {
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
  let tarball;
  try {
    const packed = pack(dir);
    tarball = packed.tarball;
    const count = checkTarball(packed.files, manifest);
    console.log(`ok   tarball ${manifest.name} (${String(count)} files)`);
  } catch (error) {
    failed = true;
    console.error(`FAIL tarball ${manifest.name}\n${error.stderr ?? ''}${error.message}`);
  }
  if (tarball === undefined) continue;
  for (const [tool, args] of [
    ['publint', [tarball, '--strict']],
    ['attw', [tarball, '--format', 'table-flipped']],
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
rmSync(tarballs, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
