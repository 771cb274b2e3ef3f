// The API reference is markdown that typedoc (with typedoc-plugin-markdown) writes into docs/api
// before VitePress builds, with its navigation in docs/api/navigation.json: one item per package,
// holding its entry points (`@portcullis/router`, `@portcullis/router/express`, …).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DefaultTheme } from 'vitepress';
import { repoRoot } from './site-content.js';

const navigationFile = join(repoRoot, 'docs', 'api', 'navigation.json');

/** typedoc-plugin-markdown's navigation item. */
interface NavigationItem {
  title: string;
  path?: string;
  children?: NavigationItem[];
}

function route(path: string): string {
  return `/api/${path.replace(/(^|\/)index\.md$/, '$1').replace(/\.md$/, '')}`;
}

function sidebarItem(item: NavigationItem): DefaultTheme.SidebarItem {
  return {
    text: item.title,
    ...(item.path === undefined ? {} : { link: route(item.path) }),
    ...(item.children === undefined ? {} : { collapsed: true, items: item.children.map(sidebarItem) }),
  };
}

/** The API reference's sidebar, one item per package; empty when typedoc has not run. */
export function apiSidebar(): DefaultTheme.SidebarItem[] {
  if (!existsSync(navigationFile)) return [];
  return (JSON.parse(readFileSync(navigationFile, 'utf8')) as NavigationItem[]).map(sidebarItem);
}

/** The API reference of the package named `name` (its sidebar item), if typedoc documented it. */
export function apiOf(
  name: string,
  sidebar: readonly DefaultTheme.SidebarItem[],
): DefaultTheme.SidebarItem | undefined {
  return sidebar.find((item) => item.text === name);
}
