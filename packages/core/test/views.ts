import { request } from 'node:http';
import type { TestMounts } from '@portcullis/testkit/frameworks';
import { portcullis as expressPortcullis } from '../src/express/index.js';
import { portcullis as fastifyPortcullis } from '../src/fastify/index.js';
import type { Guard } from '../src/guard.js';
import { portcullis as honoPortcullis } from '../src/hono/index.js';

/** One adapter middleware per guard, in order, on each framework. */
export function guardMounts(guards: readonly Guard[]): TestMounts {
  return {
    express: (app) => {
      for (const guard of guards) app.use(expressPortcullis(guard));
    },
    fastify: async (app) => {
      for (const guard of guards) await app.register(fastifyPortcullis(guard));
    },
    hono: (app) => {
      for (const guard of guards) app.use(honoPortcullis(guard));
    },
  };
}

/**
 * `GET url` with exactly these header lines, in this order and spelling (repeats included), and
 * the response body parsed as JSON when it is JSON.
 */
export function getWithLines(
  url: string,
  lines: readonly (readonly [string, string])[],
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    // An array of headers replaces Node's defaults, Host included (which HTTP/1.1 requires).
    const raw = ['Host', new URL(url).host];
    for (const [name, value] of lines) raw.push(name, value);
    const req = request(url, { headers: raw, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const json = (res.headers['content-type'] ?? '').includes('json');
        resolve({ status: res.statusCode ?? 0, body: json ? (JSON.parse(text) as unknown) : text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
