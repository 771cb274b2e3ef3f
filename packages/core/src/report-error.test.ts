import { afterEach, describe, expect, it } from 'vitest';
import { reportUnhandled } from './report-error.js';

const warnings: Error[] = [];
const onWarning = (warning: Error): void => {
  warnings.push(warning);
};

afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

const UNPRINTABLE = '[a thrown value that cannot be shown as text]';
const fail = (): never => {
  throw new Error('no');
};

// Values a broken or hostile callback can throw, and the warning's message for each: none may
// make reporting it throw in turn (the listener's catch would then crash the process).
const hostile: [string, () => unknown, string][] = [
  ['an object without a prototype', (): unknown => Object.create(null) as unknown, UNPRINTABLE],
  ['an object whose toString throws', () => ({ toString: fail }), UNPRINTABLE],
  ['a Proxy whose prototype trap throws', () => new Proxy({}, { getPrototypeOf: fail }), '[object Object]'],
  ['a symbol', () => Symbol('s'), 'Symbol(s)'],
  ['undefined', () => undefined, 'undefined'],
];

async function reported(value: unknown): Promise<Error[]> {
  process.on('warning', onWarning);
  expect(() => {
    reportUnhandled(value, 'split key');
  }).not.toThrow();
  await new Promise((resolve) => setImmediate(resolve));
  return warnings;
}

describe('reportUnhandled', () => {
  it.each(hostile)('reports %s as a process warning without throwing', async (_, value, message) => {
    const thrown = value();
    const seen = await reported(thrown);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(Error);
    expect(seen[0]).toMatchObject({ name: 'PortcullisWarning', code: 'PORTCULLIS_SPLIT_KEY' });
    expect(seen[0]?.message).toBe(message);
    expect(seen[0]?.cause).toBe(thrown);
  });

  it("reports an Error as a PortcullisWarning with the error's message and the error as its cause", async () => {
    const error = new TypeError('boom');
    const [warning, ...more] = await reported(error);
    expect(more).toEqual([]);
    expect(warning).toMatchObject({
      name: 'PortcullisWarning',
      code: 'PORTCULLIS_SPLIT_KEY',
      message: 'boom',
    });
    expect(warning?.cause).toBe(error);
    // Node prints a warning as `(node:pid) [code] ` + its toString(): the name, not a bare "Error".
    expect(String(warning)).toBe('PortcullisWarning: boom');
  });

  it('reports an Error whose message cannot be read', async () => {
    const error = new Error('hidden');
    Object.defineProperty(error, 'message', { get: fail });
    const [warning] = await reported(error);
    expect(warning).toMatchObject({ name: 'PortcullisWarning', message: UNPRINTABLE });
    expect(warning?.cause).toBe(error);
  });
});
