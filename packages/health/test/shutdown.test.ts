import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, onTestFinished, test } from 'vitest';

// Real processes (test/fixtures/shutdown-server.ts, run through tsx), real signals: readiness fails
// at once, the request in flight completes, new connections are refused after the drain, closers
// run last-registered first, the exit code is the documented one, and neither a hung closer nor a
// stuck shutdown keeps the process alive.

const FIXTURE = fileURLToPath(new URL('./fixtures/shutdown-server.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

class Service {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: (() => void)[] = [];
  url = '';
  port = 0;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--conditions=@portcullis/source', '--import', TSX, FIXTURE], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffered = '';
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
    onTestFinished(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    });
  }

  /** Resolves once a line starting with `prefix` was printed; rejects if the process exits first. */
  async line(prefix: string): Promise<string> {
    for (;;) {
      const found = this.lines.find((l) => l.startsWith(prefix));
      if (found !== undefined) return found;
      if (this.child.exitCode !== null) throw new Error(`exited before "${prefix}": ${this.lines.join(' | ')}`);
      await Promise.race([new Promise<void>((resolve) => this.#waiters.push(resolve)), this.exited]);
    }
  }

  async started(): Promise<this> {
    this.port = Number((await this.line('listening ')).split(' ')[1]);
    this.url = `http://127.0.0.1:${String(this.port)}`;
    return this;
  }

  /** The printed lines about closers and phases, in order. */
  events(): string[] {
    return this.lines.filter((l) => /^(phase|closing|closer|exit|forced) /.test(l));
  }
}

/** Resolves true when a new TCP connection to `port` is refused. */
async function refused(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'ECONNREFUSED';
  } finally {
    socket.destroy();
  }
}

describe.each(['node', 'fastify'])('graceful shutdown (%s)', (framework) => {
  test('SIGTERM: readiness fails at once, the long request completes, new connections are refused, closers in reverse, exit 0', async () => {
    const service = await new Service({ FRAMEWORK: framework, DRAIN_MS: '400', CLOSE_MS: '5000' }).started();
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    const long = fetch(`${service.url}/slow?ms=1500`).then(
      async (res) => ({ status: res.status, text: await res.text() }),
      (error: unknown) => ({ status: 0, text: String(error) }),
    );
    await service.line('request slow started');

    service.child.kill('SIGTERM');
    await service.line('phase draining SIGTERM');
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'fail' });
    // Liveness is not readiness: the process is alive, it is leaving.
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);

    await service.line('phase closing-servers');
    expect(await refused(service.port)).toBe(true);
    expect(await long).toEqual({ status: 200, text: 'slept 1500' });

    const { code } = await service.exited;
    expect(code).toBe(0);
    const closers = service.events().filter((l) => l.startsWith('closer '));
    expect(closers).toEqual([
      'closer third closed',
      'closer second closed',
      'closer first closed',
      ...(framework === 'fastify' ? ['closer app closed'] : []),
    ]);
    // The request ended before any closer ran.
    expect(service.lines.indexOf('request slow answered')).toBeLessThan(service.lines.indexOf('closing third'));
    expect(service.events().at(-1)).toBe('exit 0');
  });
});

describe('graceful shutdown: bounds', () => {
  test('a hung closer is abandoned at the deadline, the rest skipped, exit 1, the process gone soon after', async () => {
    const service = await new Service({ DRAIN_MS: '0', CLOSE_MS: '300', HANG: 'second' }).started();
    const signalled = performance.now();
    service.child.kill('SIGTERM');
    const { code } = await service.exited;
    // Generous slack over the 300 ms deadline on a shared machine; without the deadline it would never exit.
    expect(performance.now() - signalled).toBeLessThan(5_000);
    expect(code).toBe(1);
    expect(service.events().filter((l) => l.startsWith('closer '))).toEqual([
      'closer third closed',
      'closer second timeout',
      'closer first skipped',
    ]);
  });

  test('a closer that throws does not stop the others; exit 1', async () => {
    const service = await new Service({ DRAIN_MS: '0', FAIL: 'second' }).started();
    service.child.kill('SIGINT');
    const { code } = await service.exited;
    expect(code).toBe(1);
    expect(service.events().filter((l) => l.startsWith('closer '))).toEqual([
      'closer third closed',
      'closer second failed',
      'closer first closed',
    ]);
  });

  test('a second signal forces the exit at once: 128 + the signal number', async () => {
    const service = await new Service({ DRAIN_MS: '0', CLOSE_MS: '60000', HANG: 'second' }).started();
    service.child.kill('SIGTERM');
    await service.line('closing second');
    service.child.kill('SIGTERM');
    const { code } = await service.exited;
    expect(code).toBe(143);
    expect(service.events()).toContain('forced SIGTERM 143');
  });

  test('requests that outlive the cap are cut off, and the shutdown goes on', async () => {
    const service = await new Service({ DRAIN_MS: '0', REQUEST_CAP_MS: '200' }).started();
    const long = fetch(`${service.url}/slow?ms=30000`).then(
      (res) => res.status,
      (error: unknown) => error,
    );
    await service.line('request slow started');
    service.child.kill('SIGTERM');
    expect(await long).toBeInstanceOf(Error);
    expect((await service.exited).code).toBe(0);
  });
});
