// The built docs site (docs-site/, from `pnpm run docs`) in headless Chromium: every page reachable
// from the landing page is opened once; every link must lead to a page, anchor or file that exists;
// no page may log an error; every package must have its guide and API pages; the key pages are
// screenshotted into test-artifacts/docs-site/.
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

let site: Site | undefined;
let browser: Browser | undefined;
let visits = new Map<string, PageVisit>();

function opened(): { site: Site; browser: Browser } {
  if (site === undefined || browser === undefined) throw new Error('the site or the browser did not start');
  return { site, browser };
}

/** Opens `path` in a new tab, waits for hydration and saves a screenshot named `name`. */
async function open(path: string, name: string): Promise<Page> {
  const page = await opened().browser.context.newPage();
  const response = await page.goto(opened().site.origin + path);
  expect(response?.status(), path).toBe(200);
  await page.waitForFunction(`document.querySelector('#app')?.__vue_app__ !== undefined`);
  await page.screenshot({ path: join(screenshots, `${name}.png`) });
  return page;
}

async function heading(page: Page): Promise<string> {
  return (await page.locator('main h1, .VPHero h1').first().textContent()) ?? '';
}

beforeAll(async () => {
  rmSync(screenshots, { recursive: true, force: true });
  mkdirSync(screenshots, { recursive: true });
  site = await serveSite();
  browser = await launchBrowser();
  visits = await crawl(browser.context, site.origin, ['/', '/api/', '/recipes/', '/bench/'], 3);
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('the docs site', () => {
  test('every link of every page leads to a page, anchor or file that exists', async () => {
    expect(visits.size).toBeGreaterThan(packages.length * 2);
    const broken = await brokenLinks(visits, { origin: opened().site.origin, github: githubUrl(packages), repoRoot });
    expect(broken).toEqual([]);
  });

  test('no page logs an error or fails a request', () => {
    const errors = [...visits.values()].flatMap((visit) => visit.errors.map((error) => `${visit.path}: ${error}`));
    expect(errors).toEqual([]);
  });

  test('the landing page says what Portcullis is, shows the start and lists every package', async () => {
    const page = await open('/', 'landing');
    expect(await heading(page)).toContain('Portcullis');
    await expect(page.locator('#start ~ p').first().textContent()).resolves.toContain('API-gateway primitives');
    await expect(page.locator('.vp-doc pre').first().textContent()).resolves.toContain('compose(requireApiKey)');
    const listed = await page.locator('table.packages tbody tr td:first-child').allTextContents();
    expect(listed).toEqual(packages.map((pkg) => pkg.name));
    await page.screenshot({ path: join(screenshots, 'landing-full.png'), fullPage: true });
    await page.close();
  });

  test.each(packages)('$name has a guide, with its API reference in the sidebar', async (pkg) => {
    expect(pkg.guide, `docs/${pkg.dir}.md`).toBeDefined();
    const page = await open(pkg.guide?.link ?? '', `guide-${pkg.dir}`);
    expect(await heading(page)).not.toBe('');
    const reference = apiOf(pkg.name, api)?.link ?? '';
    await expect(page.locator(`.VPSidebar a[href="${reference}"]`).count()).resolves.toBe(1);
    const code = page.locator('.vp-doc div[class*="language-"]').first();
    if ((await code.count()) > 0) {
      await code.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(screenshots, `guide-${pkg.dir}-code.png`) });
    }
    await page.close();
  });

  test.each(packages)('$name has an API reference page', async (pkg) => {
    const reference = apiOf(pkg.name, api);
    expect(reference?.link, `typedoc documented ${pkg.name}`).toBeDefined();
    const page = await open(reference?.link ?? '', `api-${pkg.dir}`);
    expect(await heading(page)).toContain(pkg.name);
    await expect(page.locator('.vp-doc a').count()).resolves.toBeGreaterThan(0);
    await page.close();
  });

  test('the benchmarks page lists every report with its command, and each report is a page', async () => {
    const page = await open('/bench/', 'bench');
    const rows = page.locator('table.bench-reports tbody tr');
    await expect(rows.count()).resolves.toBe(reports.length);
    await expect(rows.first().locator('code').textContent()).resolves.toMatch(/^cd bench && node /);
    await page.close();
    const [first] = reports;
    if (first !== undefined) {
      const report = await open(first.link, `bench-${first.name}`);
      await expect(report.locator('.vp-doc table').count()).resolves.toBeGreaterThan(0);
      await report.close();
    }
  });

  test('the local search finds a guide section', async () => {
    const page = await open('/', 'search-closed');
    await page.locator('.VPNavBarSearch button').click();
    await page.locator('.VPLocalSearchBox input').fill('token bucket');
    const results = page.locator('.VPLocalSearchBox .results a');
    await results.first().waitFor();
    await page.screenshot({ path: join(screenshots, 'search.png') });
    await expect(results.count()).resolves.toBeGreaterThan(0);
    await page.close();
  });
});
