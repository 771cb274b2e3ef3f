import { request } from 'node:http';
import {
  serveTestRoutes,
  type FrameworkName,
  type ObservedServer,
  type TestMounts,
  type TestServerOptions,
} from '@portcullis/testkit/frameworks';
import { jwtAuth as expressJwtAuth } from '../../src/express.js';
import { jwtAuth as fastifyJwtAuth } from '../../src/fastify.js';
import { jwtAuth as honoJwtAuth } from '../../src/hono.js';
import type { JwtGuardOptions } from '../../src/index.js';

export type Served = ObservedServer;

export interface Harness {
  readonly name: FrameworkName;
  /** The standard test routes behind the package's own `jwtAuth` entry point for the framework. */
  serve(options: JwtGuardOptions, serverOptions?: Pick<TestServerOptions, 'trustProxy'>): Promise<Served>;
}

/** The package's own `jwtAuth` entry point for each framework. */
export function jwtMounts(options: JwtGuardOptions): TestMounts {
  return {
    express: (app) => {
      app.use(expressJwtAuth(options));
    },
    fastify: async (app) => {
      await app.register(fastifyJwtAuth(options));
    },
    hono: (app, ipOption) => {
      app.use(honoJwtAuth(options, ipOption));
    },
  };
}

function harness(name: FrameworkName): Harness {
  return {
    name,
    serve: (options, serverOptions) => serveTestRoutes(name, jwtMounts(options), serverOptions),
  };
}

export const HARNESSES: readonly Harness[] = [harness('express'), harness('fastify'), harness('hono')];

/** A raw response: status, headers and body text. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * GET with headers sent exactly as given, repeated names and odd casing included (fetch would
 * merge them into one header line).
 */
export function rawGet(url: string, headers: readonly (readonly [string, string])[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // An array of headers replaces Node's defaults, Host included (which HTTP/1.1 requires).
    const raw = ['Host', new URL(url).host];
    for (const [name, value] of headers) raw.push(name, value);
    const req = request(url, { method: 'GET', headers: raw }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
