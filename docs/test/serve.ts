// Serves the built site (docs-site/) on a free loopback port, as a static host would: a path is the
// file `<path>.html` or `<path>/index.html` (the site is built with clean URLs), anything else is
// the site's 404 page with status 404, so a broken link is seen as broken. Written on node:http
// rather than with a server package because it is this small and the test needs exactly this.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { repoRoot } from '../.vitepress/site-content.js';

/** The built site, where `pnpm run docs` writes it. */
export const siteDir: string = join(repoRoot, 'docs-site');

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface Site {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  close(): Promise<void>;
}

function fileFor(pathname: string): string | undefined {
  const path = join(siteDir, normalize(decodeURIComponent(pathname)));
  if (!path.startsWith(siteDir + sep)) return undefined;
  const candidates = pathname.endsWith('/') ? [join(path, 'index.html')] : [path, `${path}.html`];
  return candidates.find((file) => existsSync(file) && statSync(file).isFile());
}

/** Starts serving `docs-site/`; fails at once, saying what to run, when the site is not built. */
export async function serveSite(): Promise<Site> {
  if (!existsSync(join(siteDir, 'index.html'))) {
    throw new Error(`no built site in ${siteDir}: run \`pnpm run docs\` (or \`pnpm run docs:build\`) first`);
  }
  const notFound = readFileSync(join(siteDir, '404.html'));
  const server = createServer((request, response) => {
    const file = fileFor(new URL(request.url ?? '/', 'http://site').pathname);
    if (file === undefined) {
      response.writeHead(404, { 'content-type': types['.html'] });
      response.end(notFound);
      return;
    }
    // Hashed assets never change: caching them keeps one tab from fetching the same bundle per page.
    const cache = file.startsWith(join(siteDir, 'assets')) ? 'max-age=31536000, immutable' : 'no-cache';
    const type = types[extname(file)] ?? 'application/octet-stream';
    response.writeHead(200, { 'content-type': type, 'cache-control': cache });
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
      }),
  };
}
