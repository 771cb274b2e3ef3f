// Visits every page of the site reachable from its start pages, in the browser, a few tabs at a
// time: what each page links to, which ids (anchors) it has, and every error it logs once hydrated.
import type { BrowserContext, ConsoleMessage, Page, Response } from 'playwright-core';

/** One page as the browser saw it. */
export interface PageVisit {
  /** The path visited (`/ratelimit`), as linked. */
  readonly path: string;
  readonly status: number;
  /** Every `id` in the rendered page: the targets `#anchor` links may name. */
  readonly ids: ReadonlySet<string>;
  /** Every link's `href`, resolved against the page. */
  readonly links: readonly string[];
  /** Console errors, uncaught exceptions and failed same-origin requests while loading. */
  readonly errors: readonly string[];
}

/** Runs in the page: its ids and resolved link targets. A string, because this code runs in the browser. */
const snapshotScript = `(() => ({
  ids: [...document.querySelectorAll('[id]')].map((element) => element.id),
  links: [...document.querySelectorAll('a[href]')].map((anchor) => anchor.href),
}))()`;

/** True once Vue has mounted the app on the server-rendered markup (hydration done). */
const hydratedScript = `document.querySelector('#app')?.__vue_app__ !== undefined`;

/** A path whose last segment has an extension other than `.html` is a file, not a page. */
export function isAsset(path: string): boolean {
  return /\.(?!html$)[a-z\d]+$/i.test(path);
}

/** Called with each page once it is hydrated, before the crawl moves on (screenshots, extra checks). */
export type OnPage = (page: Page, path: string) => Promise<void>;

async function visit(page: Page, origin: string, path: string, onPage: OnPage): Promise<PageVisit> {
  const url = new URL(path, origin).href;
  const errors: string[] = [];
  const onConsole = (message: ConsoleMessage): void => {
    if (message.type() === 'error') errors.push(`console error: ${message.text()} (${message.location().url})`);
  };
  const onPageError = (error: Error): void => {
    errors.push(`uncaught: ${error.message}`);
  };
  const onResponse = (response: Response): void => {
    if (response.url() !== url && response.url().startsWith(origin) && response.status() >= 400) {
      errors.push(`${response.status()} for ${response.url()}`);
    }
  };
  page.on('console', onConsole);
  page.on('pageerror', onPageError);
  page.on('response', onResponse);
  try {
    const response = await page.goto(url, { waitUntil: 'load' });
    const status = response?.status() ?? 0;
    if (status !== 200) return { path, status, ids: new Set(), links: [], errors: [] };
    await page.waitForFunction(hydratedScript, undefined, { timeout: 10_000 });
    const snapshot = await page.evaluate<{ ids: string[]; links: string[] }>(snapshotScript);
    await onPage(page, path);
    return { path, status, ids: new Set(snapshot.ids), links: snapshot.links, errors };
  } finally {
    page.off('console', onConsole);
    page.off('pageerror', onPageError);
    page.off('response', onResponse);
  }
}

/**
 * Every page reachable through same-origin links from `starts`, visited once each by `tabs`
 * tabs in parallel. Files (`/x.svg`) are not visited: the link check fetches them.
 */
export async function crawl(
  context: BrowserContext,
  origin: string,
  starts: readonly string[],
  tabs: number,
  onPage: OnPage = async () => {},
): Promise<Map<string, PageVisit>> {
  const visits = new Map<string, PageVisit>();
  const queue = [...new Set(starts)];
  const seen = new Set(queue);
  let inFlight = 0;

  async function worker(page: Page): Promise<void> {
    for (;;) {
      const path = queue.shift();
      if (path === undefined) {
        if (inFlight === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      inFlight++;
      try {
        const result = await visit(page, origin, path, onPage);
        visits.set(path, result);
        for (const link of result.links) {
          const target = new URL(link);
          if (target.origin !== origin || isAsset(target.pathname) || seen.has(target.pathname)) continue;
          seen.add(target.pathname);
          queue.push(target.pathname);
        }
      } finally {
        inFlight--;
      }
    }
  }

  const pages = await Promise.all(Array.from({ length: tabs }, () => context.newPage()));
  try {
    await Promise.all(pages.map(worker));
  } finally {
    await Promise.all(pages.map((page) => page.close()));
  }
  return visits;
}
