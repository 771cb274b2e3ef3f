// The built docs site (docs-site/, from `pnpm run docs`) in headless Chromium: every page reachable
// from the landing page is opened once; every link must lead to a page, anchor or file that exists;
// no page may log an error; every package must have its guide and API pages; the key pages (landing,
// guides, API pages, benchmarks) are checked and screenshotted into test-artifacts/docs-site/ while
// the crawl has them open.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiOf, apiSidebar } from '../.vitepress/api-reference.js';
import { benchReports, githubUrl, repoRoot, sitePackages } from '../.vitepress/site-content.js';
import { launchBrowser, type Browser } from './browser.js';
import { crawl, type PageVisit } from './crawl.js';
import { brokenLinks } from './links.js';
import { serveSite, type Site } from './serve.js';

const screenshots = join(repoRoot, 'test-artifacts', 'docs-site');
const packages = sitePackages();
const api = apiSidebar();
const reports = benchReports();

/** What a key page showed, read while the crawl had it open. */
interface KeyPage {
  readonly heading: string;
  /** Text of the first paragraph after `#start` (landing page). */
  readonly intro: string;
  /** Text of the first code block. */
  readonly firstCode: string;
  /** Every link of the sidebar. */
  readonly sidebarLinks: readonly string[];
  /** Cells of each table row, the first table with a body only. */
  readonly rows: readonly (readonly string[])[];
  readonly docLinks: number;
  readonly docTables: number;
}

/** The pages to check and screenshot, by path, with the screenshot's name. */
const keyPages = new Map<string, string>([
  ['/', 'landing'],
  ['/bench/', 'bench'],
  ...packages.flatMap((pkg): [string, string][] =>
    pkg.guide === undefined ? [] : [[pkg.guide.link, `guide-${pkg.dir}`]],
  ),
  ...packages.flatMap((pkg): [string, string][] => {
    const link = apiOf(pkg.name, api)?.link;
    return link === undefined ? [] : [[link, `api-${pkg.dir}`]];
  }),
  ...reports.slice(0, 1).map((report): [string, string] => [report.link, `bench-${report.name}`]),
]);
const seen = new Map<string, KeyPage>();

async function text(page: Page, selector: string): Promise<string> {
  const element = page.locator(selector).first();
  return (await element.count()) === 0 ? '' : ((await element.textContent()) ?? '');
}

async function readKeyPage(page: Page, path: string): Promise<void> {
  const name = keyPages.get(path);
  if (name === undefined) return;
  await page.screenshot({ path: join(screenshots, `${name}.png`) });
  const code = page.locator('.vp-doc div[class*="language-"]').first();
  if (name.startsWith('guide-') && (await code.count()) > 0) {
    await code.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(screenshots, `${name}-code.png`) });
  }
  if (path === '/') await page.screenshot({ path: join(screenshots, 'landing-full.png'), fullPage: true });
  seen.set(path, {
    heading: await text(page, 'main h1, .VPHero h1'),
    intro: await text(page, '#start ~ p'),
    firstCode: await text(page, '.vp-doc pre'),
    sidebarLinks: await page.evaluate<string[]>(
      `[...document.querySelectorAll('.VPSidebar a[href]')].map((a) => a.getAttribute('href'))`,
    ),
    rows: await page.evaluate<string[][]>(
      `[...(document.querySelector('.vp-doc table tbody')?.rows ?? [])].map((row) => [...row.cells].map((cell) => cell.textContent.trim()))`,
    ),
    docLinks: await page.locator('.vp-doc a').count(),
    docTables: await page.locator('.vp-doc table').count(),
  });
}

function keyPage(path: string | undefined): KeyPage {
  const page = path === undefined ? undefined : seen.get(path);
  if (page === undefined) throw new Error(`${path ?? 'the page'} was not reached from the landing page`);
  return page;
}

let site: Site | undefined;
let browser: Browser | undefined;
let visits = new Map<string, PageVisit>();

beforeAll(async () => {
  rmSync(screenshots, { recursive: true, force: true });
  mkdirSync(screenshots, { recursive: true });
  site = await serveSite();
  browser = await launchBrowser();
  visits = await crawl(browser.context, site.origin, ['/'], 3, readKeyPage);
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('the docs site', () => {
  test('every link of every page leads to a page, anchor or file that exists', async () => {
    expect(visits.size).toBeGreaterThan(packages.length * 2);
    const origin = site?.origin ?? '';
    expect(await brokenLinks(visits, { origin, github: githubUrl(packages), repoRoot })).toEqual([]);
  });

  test('no page logs an error or fails a request', () => {
    const errors = [...visits.values()].flatMap((visit) => visit.errors.map((error) => `${visit.path}: ${error}`));
    expect(errors).toEqual([]);
  });

  test('the landing page says what Portcullis is, shows the start and lists every package', () => {
    const landing = keyPage('/');
    expect(landing.heading).toContain('Portcullis');
    expect(landing.intro).toContain('API-gateway primitives');
    expect(landing.firstCode).toContain('compose(requireApiKey)');
    expect(landing.rows.map((row) => row[0])).toEqual(packages.map((pkg) => pkg.name));
  });

  test.each(packages)('$name has a guide, with its API reference in the sidebar', (pkg) => {
    expect(pkg.guide, `docs/${pkg.dir}.md`).toBeDefined();
    const guide = keyPage(pkg.guide?.link);
    expect(guide.heading).not.toBe('');
    expect(guide.sidebarLinks).toContain(apiOf(pkg.name, api)?.link);
  });

  test.each(packages)('$name has an API reference page', (pkg) => {
    const link = apiOf(pkg.name, api)?.link;
    expect(link, `typedoc documented ${pkg.name}`).toBeDefined();
    const reference = keyPage(link);
    expect(reference.heading).toContain(pkg.name);
    expect(reference.docLinks).toBeGreaterThan(0);
  });

  test('the benchmarks page lists every report with its command, and a report is a page with tables', () => {
    const bench = keyPage('/bench/');
    expect(bench.rows).toHaveLength(reports.length);
    expect(bench.rows[0]?.[1]).toMatch(/^cd bench && node /);
    expect(keyPage(reports[0]?.link).docTables).toBeGreaterThan(0);
  });

  test('the local search finds a guide section', async () => {
    const page = await (browser?.context.newPage() ?? Promise.reject(new Error('no browser')));
    await page.goto(`${site?.origin ?? ''}/`);
    await page.locator('.VPNavBarSearch button').click();
    await page.locator('.VPLocalSearchBox input').fill('token bucket');
    const results = page.locator('.VPLocalSearchBox .results a');
    await results.first().waitFor();
    await page.screenshot({ path: join(screenshots, 'search.png') });
    expect(await results.count()).toBeGreaterThan(0);
    await page.close();
  });
});
