// The recipes page's list, from the front matter of docs/recipes/*.md.
import { createContentLoader } from 'vitepress';

export interface RecipeRow {
  readonly url: string;
  readonly title: string;
  readonly description: string;
}

declare const data: RecipeRow[];
export { data };

const loader: ReturnType<typeof createContentLoader<RecipeRow[]>> = createContentLoader('recipes/*.md', {
  transform(pages) {
    return pages
      .filter((page) => !page.url.endsWith('/recipes/'))
      .map((page) => ({
        url: page.url,
        title: String(page.frontmatter['title'] ?? page.url),
        description: String(page.frontmatter['description'] ?? ''),
      }))
      .sort((a, b) => a.url.localeCompare(b.url)); // file order, as in the sidebar
  },
});

export default loader;
