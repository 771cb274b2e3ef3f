// @ts-check
// A typedoc plugin: names each package's entry points by their import path. typedoc names them by
// file (`index`, `express`), so the reference would show "index" where a user writes
// `@portcullis/ratelimit` and "express" for `@portcullis/ratelimit/express`. The main entry point is
// first named `main` (its page is then `main.md` rather than `index-1.md`, next to the package's
// `index.md`); the import paths replace the names once the pages' URLs are fixed, so only titles,
// links' text and the sidebar change.
import { Converter, ReflectionKind } from 'typedoc';
import { MarkdownRendererEvent } from 'typedoc-plugin-markdown';

/** @param {string} packageName @param {string} entry */
function importPath(packageName, entry) {
  return entry === 'main' ? packageName : `${packageName}/${entry}`;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const entry of context.project.children ?? []) {
      if (entry.kind === ReflectionKind.Module && entry.name === 'index') entry.name = 'main';
    }
  });
  app.renderer.on(MarkdownRendererEvent.BEGIN, (output) => {
    for (const pkg of output.project.children ?? []) {
      if (pkg.kind !== ReflectionKind.Module) continue;
      for (const entry of pkg.children ?? []) {
        if (entry.kind === ReflectionKind.Module) entry.name = importPath(pkg.name, entry.name);
      }
      // The package's main entry point first, then its subpaths (in its page's list of modules).
      for (const group of pkg.groups ?? []) {
        group.children.sort((a, b) => Number(b.name === pkg.name) - Number(a.name === pkg.name));
      }
    }
    for (const pkg of output.navigation ?? []) {
      if (pkg.kind !== ReflectionKind.Module || pkg.children === undefined) continue;
      const entries = pkg.children.filter((item) => item.kind === ReflectionKind.Module);
      for (const entry of entries) entry.title = importPath(pkg.title, entry.title);
      // The package's main entry point first, then its subpaths.
      pkg.children.sort((a, b) => Number(b.title === pkg.title) - Number(a.title === pkg.title));
    }
  });
}
