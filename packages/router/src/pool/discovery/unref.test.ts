import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startDnsServer } from '@portcullis/testkit';
import { expect, test } from 'vitest';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/discovery-exits.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

// Whether a timer keeps a process alive is only observable from outside it, hence a child process.
test('watching sources does not keep the process alive (their timers are unref’ed)', async () => {
  await using dns = await startDnsServer({
    zone: { 'api.internal': [{ type: 'A', address: '10.0.0.1', ttl: 3_600 }] },
  });
  // With a ref'ed timer the child would live for minutes; the kill after 30 s fails the test.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@portcullis/source', '--import', TSX, FIXTURE, dns.address],
    { encoding: 'utf8', timeout: 30_000 },
  );
  expect(JSON.parse(stdout)).toEqual([1, 1]);
}, 60_000);
