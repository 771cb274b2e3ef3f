// Checks every link the crawl saw: a page must exist (200) and hold the `#anchor` named, a file must
// be served, and a link into this repository on GitHub must name a file the repository has.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isAsset, type PageVisit } from './crawl.js';

export interface BrokenLink {
  /** The page that carries the link. */
  readonly from: string;
  readonly href: string;
  readonly reason: string;
}

export interface LinkCheckOptions {
  /** The site's origin, `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** `https://github.com/<owner>/<repo>`: links under it are checked against `repoRoot`. */
  readonly github: string;
  readonly repoRoot: string;
}

async function fileStatus(url: string, cache: Map<string, Promise<number>>): Promise<number> {
  let status = cache.get(url);
  if (status === undefined) {
    status = fetch(url).then(async (response) => {
      await response.arrayBuffer();
      return response.status;
    });
    cache.set(url, status);
  }
  return status;
}

function repoFile(href: string, github: string): string | undefined {
  const match = new RegExp(`^${github.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(?:blob|tree)/main/([^#?]+)`).exec(href);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

async function check(
  href: string,
  visits: ReadonlyMap<string, PageVisit>,
  options: LinkCheckOptions,
  files: Map<string, Promise<number>>,
): Promise<string | undefined> {
  const target = new URL(href);
  if (target.origin !== options.origin) {
    const path = repoFile(href, options.github);
    return path === undefined || existsSync(join(options.repoRoot, path)) ? undefined : `no ${path} in the repository`;
  }
  if (isAsset(target.pathname)) {
    const status = await fileStatus(target.origin + target.pathname, files);
    return status === 200 ? undefined : `file answered ${status}`;
  }
  const page = visits.get(target.pathname);
  if (page === undefined) return 'page not visited';
  if (page.status !== 200) return `page answered ${page.status}`;
  const anchor = decodeURIComponent(target.hash.slice(1));
  if (anchor !== '' && !page.ids.has(anchor)) return `no #${anchor} on ${target.pathname}`;
  return undefined;
}

/** Every link of every visited page that leads nowhere, with the reason. */
export async function brokenLinks(
  visits: ReadonlyMap<string, PageVisit>,
  options: LinkCheckOptions,
): Promise<BrokenLink[]> {
  const files = new Map<string, Promise<number>>();
  const broken: BrokenLink[] = [];
  for (const page of visits.values()) {
    for (const href of new Set(page.links)) {
      const reason = await check(href, visits, options, files);
      if (reason !== undefined) broken.push({ from: page.path, href, reason });
    }
  }
  return broken;
}
