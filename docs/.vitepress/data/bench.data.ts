// The benchmarks page's table of reports, from bench/results/*.md (see site-content.ts).
import { benchReports } from '../site-content.js';

export interface BenchRow {
  readonly title: string;
  readonly link: string;
  readonly command: string | undefined;
  readonly date: string | undefined;
}

declare const data: BenchRow[];
export { data };

const loader: { watch: string[]; load: () => BenchRow[] } = {
  watch: ['../../../bench/results/*.md'],
  load() {
    return benchReports().map(({ title, link, command, date }) => ({ title, link, command, date }));
  },
};

export default loader;
