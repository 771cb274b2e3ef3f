import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '@portcullis/testkit/frameworks';
import { bearerToken, createHealth, type CheckOptions, type Health } from '../src/index.js';
import { serveHealth } from './servers.js';

// The endpoint answers within its deadline (plus slack for a shared machine) whatever the checks
// do: 60 checks, every fifth of which hangs and ignores its signal, the rest taking up to 50 ms.
// Real time here, with generous slack; the rule itself is property-tested without it.

const DEADLINE_MS = 250;
const SLACK_MS = 1_000;
const TOKEN = 'deadline-token-0123456789';

function checks(): CheckOptions[] {
  return Array.from({ length: 60 }, (_, i) => ({
    name: `dep-${String(i)}`,
    critical: i % 2 === 0,
    ttlMs: 0,
    timeoutMs: i % 5 === 0 ? 30_000 : 5_000,
    check:
      i % 5 === 0
        ? () => new Promise<never>(() => undefined)
        : () => new Promise<void>((resolve) => setTimeout(resolve, (i * 7) % 50)),
  }));
}

describe('a bounded answer', () => {
  let health: Health;
  let server: RunningServer;

  beforeAll(async () => {
    health = createHealth({ checks: checks() });
    server = await serveHealth('node', health, { deadlineMs: DEADLINE_MS, details: bearerToken(TOKEN) });
  });
  afterAll(async () => {
    await server.close();
    health.dispose();
  });

  test('60 checks, some hanging: every answer comes within the deadline plus slack, the hung ones failed by it', async () => {
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await fetch(`${server.url}/health/ready?verbose`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        return {
          status: res.status,
          body: (await res.json()) as { status: string; checks: Record<string, { status: string; output?: string }[]> },
          at: performance.now(),
        };
      }),
    );
    for (const answer of answers) {
      expect(answer.at - started).toBeLessThan(DEADLINE_MS + SLACK_MS);
      // dep-0 hangs and is critical: the whole fails.
      expect(answer.status).toBe(503);
      expect(answer.body.status).toBe('fail');
      for (let i = 0; i < 60; i++) {
        const entry = answer.body.checks[`dep-${String(i)}`]?.[0];
        expect(entry?.status).toBe(i % 5 === 0 ? 'fail' : 'pass');
        if (i % 5 === 0) expect(entry?.output).toContain('deadline');
      }
    }
  });
});
