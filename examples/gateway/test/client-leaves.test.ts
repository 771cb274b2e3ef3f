import { request as httpRequest, type IncomingMessage } from 'node:http';
import { startHttpServer, type HttpServer } from '@portcullis/testkit';
import { afterEach, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway | undefined;
let upstream: HttpServer | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  await upstream?.close();
  upstream = undefined;
});

describe('a client that leaves mid-request', () => {
  test('cancels the upstream call at once, and the instance is not blamed for it', async () => {
    const arrived: IncomingMessage[] = [];
    let reached: () => void = () => undefined;
    const reachedUpstream = new Promise<void>((resolve) => {
      reached = resolve;
    });
    // Takes requests and never answers.
    upstream = await startHttpServer((request) => {
      arrived.push(request);
      reached();
    });
    gw = await startTestGateway({ upstreamUrl: upstream.url });
    const client = httpRequest(`${gw.base}/api/users/7`, { headers: { 'x-api-key': 'demo-enterprise' }, agent: false });
    client.on('error', () => undefined);
    client.end();
    await reachedUpstream;
    const upstreamClosed = new Promise<void>((resolve) => {
      (arrived[0] as IncomingMessage).socket.once('close', resolve);
    });
    client.destroy();
    await upstreamClosed;
    const stats = (await (await fetch(`${gw.base}/demo/forwarding`)).json()) as Record<
      string,
      { attempts: number; failures: number }
    >;
    // One attempt, aborted by the client: neither a timeout (a failure) nor retried.
    expect(stats['users']).toEqual({ attempts: 1, failures: 0 });
    expect(arrived).toHaveLength(1);
  }, 15_000);
});
