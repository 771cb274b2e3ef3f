// The landing page's package table, from packages/*/package.json (see site-content.ts).
import { apiOf, apiSidebar } from '../api-reference.js';
import { sitePackages } from '../site-content.js';

export interface PackageRow {
  readonly name: string;
  readonly description: string;
  readonly guide: string | undefined;
  readonly api: string | undefined;
}

declare const data: PackageRow[];
export { data };

const loader: { watch: string[]; load: () => PackageRow[] } = {
  watch: ['../../../packages/*/package.json', '../../*.md'],
  load() {
    const api = apiSidebar();
    return sitePackages().map((pkg) => ({
      name: pkg.name,
      description: pkg.description,
      guide: pkg.guide?.link,
      api: apiOf(pkg.name, api)?.link,
    }));
  },
};

export default loader;
