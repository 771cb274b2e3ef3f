import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/flag-retention.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

// Garbage collection is only observable with --expose-gc, hence a child process.
test('a flag source that never settles does not keep the requests it was asked about alive', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--conditions=@portcullis/source', '--import', TSX, FIXTURE],
    { encoding: 'utf8' },
  );
  // Every answer is still pending and held by the source; none of the 200 requests is reachable.
  expect(JSON.parse(stdout)).toEqual({ stuck: 200, alive: 0 });
}, 60_000);
