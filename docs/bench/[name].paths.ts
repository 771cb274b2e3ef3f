// One page per benchmark report: bench/results/<name>.md is shown at /bench/<name>.
import { benchReports } from '../.vitepress/site-content.js';

interface ReportRoute {
  params: { name: string };
  content: string;
}

const routes: { paths: () => ReportRoute[] } = {
  paths() {
    return benchReports().map((report) => ({ params: { name: report.name }, content: report.content }));
  },
};

export default routes;
