// What the site is made of, read from the repository at build time so that a package, a guide, a
// recipe or a benchmark report appears on the site (sidebar, landing page, link checks) when its
// files land, without a list to keep in step here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is `docs/.vitepress/site-content.ts`). */
export const repoRoot: string = fileURLToPath(new URL('../..', import.meta.url));

/** A page of the site: its route (no base, no extension) and its title. */
export interface SitePage {
  readonly link: string;
  readonly title: string;
}

/** A publishable package: `packages/<dir>` whose `package.json` is not private. */
export interface SitePackage {
  /** Folder name under `packages/`, e.g. `ratelimit`. */
  readonly dir: string;
  /** npm name, e.g. `@portcullis/ratelimit`. */
  readonly name: string;
  readonly description: string;
  /** `docs/<dir>.md`, when the package has a guide. */
  readonly guide: SitePage | undefined;
}

interface Manifest {
  name?: string;
  description?: string;
  private?: boolean;
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** The `title:` of a markdown file's front matter, else its first `# ` heading, else `fallback`. */
export function markdownTitle(text: string, fallback: string): string {
  const frontMatter = /^---\n([\s\S]*?)\n---/.exec(text)?.[1];
  const title = frontMatter === undefined ? undefined : /^title:\s*(.+)$/m.exec(frontMatter)?.[1];
  if (title !== undefined) return title.trim().replace(/^(['"])(.*)\1$/, '$2');
  const heading = /^# (.+)$/m.exec(text)?.[1];
  return heading === undefined ? fallback : heading.replaceAll('`', '').trim();
}

function markdownFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => name.endsWith('.md') && name !== 'index.md')
    .sort();
}

function guidePage(slug: string): SitePage | undefined {
  const path = join(repoRoot, 'docs', `${slug}.md`);
  return existsSync(path) ? { link: `/${slug}`, title: markdownTitle(readText(path), slug) } : undefined;
}

/**
 * Package order: `core` first (every other package builds on it), then the order of the README's
 * package table, then any other package by name.
 */
function packageRank(dirs: readonly string[]): (dir: string) => number {
  const readme = readText(join(repoRoot, 'README.md'));
  const listed = [...readme.matchAll(/^\|\s*`@portcullis\/([\w-]+)`/gm)].map((match) => match[1] ?? '');
  const order = ['core', ...listed.filter((dir) => dir !== 'core'), ...[...dirs].sort()];
  return (dir) => order.indexOf(dir);
}

/** Every publishable package, in reading order. */
export function sitePackages(): SitePackage[] {
  const root = join(repoRoot, 'packages');
  const found: SitePackage[] = [];
  for (const dir of readdirSync(root)) {
    const manifestPath = join(root, dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readText(manifestPath)) as Manifest;
    if (manifest.private === true || manifest.name === undefined) continue;
    found.push({ dir, name: manifest.name, description: manifest.description ?? '', guide: guidePage(dir) });
  }
  const rank = packageRank(found.map((pkg) => pkg.dir));
  return found.sort((a, b) => rank(a.dir) - rank(b.dir));
}

/** Guides in `docs/` that are not a package's: the architecture first, then by file name. */
export function generalGuides(packages: readonly SitePackage[]): SitePage[] {
  const packageDirs = new Set(packages.map((pkg) => pkg.dir));
  return markdownFiles(join(repoRoot, 'docs'))
    .map((file) => file.replace(/\.md$/, ''))
    .filter((slug) => !packageDirs.has(slug))
    .sort((a, b) => Number(b === 'architecture') - Number(a === 'architecture') || a.localeCompare(b))
    .flatMap((slug) => guidePage(slug) ?? []);
}

/** The recipes, `docs/recipes/*.md`. */
export function recipes(): SitePage[] {
  const folder = join(repoRoot, 'docs', 'recipes');
  return markdownFiles(folder).map((file) => ({
    link: `/recipes/${file.replace(/\.md$/, '')}`,
    title: markdownTitle(readText(join(folder, file)), file),
  }));
}

/** A benchmark report, `bench/results/<name>.md`, shown on the site at `/bench/<name>`. */
export interface BenchReport extends SitePage {
  readonly name: string;
  /** The command line that produced the report (its `Command:` line), if it has one. */
  readonly command: string | undefined;
  /** When it was measured (its `Date:` line), if it says. */
  readonly date: string | undefined;
  readonly content: string;
}

/** Every benchmark report, by name. */
export function benchReports(): BenchReport[] {
  const folder = join(repoRoot, 'bench', 'results');
  return markdownFiles(folder).map((file) => {
    const content = readText(join(folder, file));
    const name = file.replace(/\.md$/, '');
    return {
      name,
      link: `/bench/${name}`,
      title: markdownTitle(content, name).replace(/ benchmarks$/, ''),
      command: /^- Command: `([^`]+)`/m.exec(content)?.[1],
      date: /^- Date: (\S+?)(?:T[\d:.]+Z)?[;\s]/m.exec(content)?.[1],
      content,
    };
  });
}

/** `https://github.com/<owner>/<repo>`, from the packages' `repository` field. */
export function githubUrl(packages: readonly SitePackage[]): string {
  for (const pkg of packages) {
    const manifest = JSON.parse(readText(join(repoRoot, 'packages', pkg.dir, 'package.json'))) as {
      repository?: { url?: string };
    };
    const url = manifest.repository?.url;
    if (url !== undefined) return url.replace(/^git\+/, '').replace(/\.git$/, '');
  }
  throw new Error('no package.json under packages/ names a repository URL');
}
