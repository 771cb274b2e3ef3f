// The guides are written to read well on GitHub too, so they link files by their place in the
// repository (`../bench/results/router.md`, `../examples/bff/README.md`), and the packages' READMEs
// link the guides by their GitHub address. On the site, a link to a file the site shows becomes a
// link to its page, and a link to any other file of the repository goes to that file on GitHub.
import { existsSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { MarkdownRenderer } from 'vitepress';

export interface RepoLinkOptions {
  /** Absolute path of the repository root. */
  readonly repoRoot: string;
  /** `https://github.com/<owner>/<repo>`: links to repository files go to its `main` branch. */
  readonly github: string;
  /** The repository path of the file a page is made from (`core.md` → `docs/core.md`). */
  readonly sourceOf: (page: string) => string;
  /** The site route (`/x.md` style, so VitePress checks it) of a repository file outside `docs/`, if it has one. */
  readonly routeOf: (repoPath: string) => string | undefined;
}

function splitHash(href: string): [path: string, hash: string] {
  const at = href.indexOf('#');
  return at === -1 ? [href, ''] : [href.slice(0, at), href.slice(at)];
}

function siteRoute(target: string, options: RepoLinkOptions): string | undefined {
  if (target.startsWith('docs/') && target.endsWith('.md')) return `/${target.slice('docs/'.length)}`;
  return options.routeOf(target);
}

/** The link a page should carry for `href` as written in its source file. */
export function rewriteRepoLink(href: string, page: string, options: RepoLinkOptions): string {
  const blob = `${options.github}/blob/main/`;
  if (href.startsWith(blob)) {
    const [path, hash] = splitHash(href.slice(blob.length));
    const route = siteRoute(path, options);
    return route === undefined ? href : route + hash;
  }
  if (href === '' || href.startsWith('/') || href.startsWith('#') || /^[a-z][a-z\d+.-]*:/i.test(href)) return href;

  const [path, hash] = splitHash(href);
  const source = options.sourceOf(page);
  const target = posix.normalize(posix.join(posix.dirname(source), decodeURI(path)));
  if (target.startsWith('../')) return href; // outside the repository: left as written, the link check reports it
  const route = siteRoute(target, options);
  if (route !== undefined) {
    // Relative links between pages that sit side by side on the site already resolve.
    const sameTree = source.startsWith('docs/') && target.startsWith('docs/');
    return sameTree ? href : route + hash;
  }
  const absolute = join(options.repoRoot, target);
  if (!existsSync(absolute)) return href; // a dead link stays dead, for the checks to report
  const kind = statSync(absolute).isDirectory() ? 'tree' : 'blob';
  return `${options.github}/${kind}/main/${target}${hash}`;
}

/** Rewrites every link of every page with {@link rewriteRepoLink}, before VitePress renders links. */
export function repoLinks(md: MarkdownRenderer, options: RepoLinkOptions): void {
  md.core.ruler.push('portcullis_repo_links', (state) => {
    const page = (state.env as { relativePath?: string }).relativePath;
    if (page === undefined) return;
    for (const block of state.tokens) {
      for (const token of block.children ?? []) {
        if (token.type !== 'link_open') continue;
        const href = token.attrGet('href');
        if (href !== null) token.attrSet('href', rewriteRepoLink(href, page, options));
      }
    }
  });
}
