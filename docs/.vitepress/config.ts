// The docs site: the guides in docs/*.md, recipes, the benchmark reports of bench/results and the API
// reference typedoc writes into docs/api. `pnpm run docs` builds it into docs-site/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DefaultTheme, UserConfig } from 'vitepress';
import { apiOf, apiSidebar } from './api-reference.js';
import { quickstartTabs } from './markdown/quickstart-tabs.js';
import { repoLinks } from './markdown/repo-links.js';
import { benchReports, generalGuides, githubUrl, recipes, repoRoot, sitePackages } from './site-content.js';

const packages = sitePackages();
const github = githubUrl(packages);
const api = apiSidebar();
const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { description: string };

type Package = (typeof packages)[number];

/**
 * A package in the guides' sidebar: its name links its guide, and opens (by itself on the package's
 * own pages) on its API reference, so the list of packages stays short.
 */
function packageGroup(pkg: Package): DefaultTheme.SidebarItem {
  const reference = apiOf(pkg.name, api)?.link;
  return {
    text: pkg.name,
    ...(pkg.guide === undefined ? {} : { link: pkg.guide.link, docFooterText: `${pkg.name}: guide` }),
    collapsed: true,
    items:
      reference === undefined ? [] : [{ text: 'API reference', link: reference, docFooterText: `${pkg.name}: API` }],
  };
}

const guidesSidebar: DefaultTheme.SidebarItem[] = [
  {
    text: 'Introduction',
    items: [
      { text: 'What is Portcullis', link: '/' },
      ...generalGuides(packages).map(({ title, link }) => ({ text: title, link })),
    ],
  },
  { text: 'Packages', items: packages.map(packageGroup) },
  { text: 'Recipes', link: '/recipes/', items: recipes().map(({ title, link }) => ({ text: title, link })) },
  { text: 'Benchmarks', link: '/bench/', items: benchReports().map(({ title, link }) => ({ text: title, link })) },
];

/**
 * The sidebar of a package's API pages: its guide and entry points, then the other packages. Each
 * section has its own sidebar so that a page carries the links of its section only.
 */
function apiSidebarOf(pkg: Package, reference: DefaultTheme.SidebarItem): DefaultTheme.SidebarItem[] {
  const items: DefaultTheme.SidebarItem[] = [];
  if (pkg.guide !== undefined) items.push({ text: 'Guide', link: pkg.guide.link });
  items.push({ text: 'Overview', link: reference.link ?? '/api/' }, ...(reference.items ?? []));
  return [
    { text: pkg.name, items },
    {
      text: 'Other packages',
      collapsed: true,
      items: packages
        .filter((other) => other !== pkg)
        .map((other) => ({ text: other.name, link: apiOf(other.name, api)?.link ?? other.guide?.link ?? '/' })),
    },
  ];
}

const sidebar: DefaultTheme.SidebarMulti = { '/': guidesSidebar };
for (const pkg of packages) {
  const reference = apiOf(pkg.name, api);
  if (reference?.link !== undefined) sidebar[reference.link] = apiSidebarOf(pkg, reference);
}

/** Where a page's markdown comes from, to resolve the relative links written in it. */
function sourceOf(page: string): string {
  if (page === 'bench/index.md') return 'bench/README.md';
  if (page.startsWith('bench/')) return `bench/results/${page.slice('bench/'.length)}`;
  return `docs/${page}`;
}

/** The page that shows a repository file outside docs/, if one does. */
function routeOf(repoPath: string): string | undefined {
  if (repoPath === 'README.md') return '/index.md';
  if (repoPath === 'bench/README.md') return '/bench/index.md';
  const report = /^bench\/results\/([\w.-]+\.md)$/.exec(repoPath)?.[1];
  if (report !== undefined) return `/bench/${report}`;
  const readme = /^packages\/([\w.-]+)\/README\.md$/.exec(repoPath)?.[1];
  const pkg = packages.find((candidate) => candidate.dir === readme);
  return pkg === undefined ? undefined : apiOf(pkg.name, api)?.link;
}

const config: UserConfig<DefaultTheme.Config> = {
  title: 'Portcullis',
  description: rootManifest.description,
  lang: 'en',
  outDir: '../docs-site',
  cleanUrls: true,
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }]],
  markdown: {
    config(md) {
      quickstartTabs(md);
      repoLinks(md, { repoRoot, github, sourceOf, routeOf });
    },
  },
  themeConfig: {
    logo: '/favicon.svg',
    nav: [
      { text: 'Guides', link: generalGuides(packages)[0]?.link ?? '/' },
      { text: 'API', link: '/api/' },
      { text: 'Recipes', link: '/recipes/' },
      { text: 'Benchmarks', link: '/bench/' },
    ],
    sidebar,
    outline: { level: [2, 3] },
    search: {
      provider: 'local',
      options: {
        // The index keeps a page's text, not its colours: rendering the pages for it without syntax
        // highlighting makes the same index in about half the time (md.render is synchronous, so
        // no other page renders while highlighting is off).
        _render(src, env, md) {
          const highlight = md.options.highlight;
          md.options.highlight = null;
          try {
            const html = md.render(src, env);
            return (env.frontmatter as { search?: boolean } | undefined)?.search === false ? '' : html;
          } finally {
            md.options.highlight = highlight;
          }
        },
      },
    },
    socialLinks: [{ icon: 'github', link: github }],
    footer: { message: 'MIT licence' },
  },
};

export default config;
