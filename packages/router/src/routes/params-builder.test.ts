import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { paramsBuilder } from './params-builder.js';

// Names as the table admits them: identifiers (no `__proto__`), and the wildcard's `*`.
const name = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/)
  .filter((n) => n !== '__proto__')
  .chain((n) => fc.constantFrom(n, 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '*'));

describe('paramsBuilder', () => {
  it('builds, generated or not, an object whose own keys are the names in order with their values', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 1, maxLength: 8 }),
        fc.array(fc.string(), { minLength: 8, maxLength: 8 }),
        (names, values) => {
          for (const generate of [true, false]) {
            const params = paramsBuilder(names, generate)(values);
            expect(Object.keys(params)).toEqual(names);
            for (const [i, n] of names.entries()) {
              expect(Object.getOwnPropertyDescriptor(params, n)).toMatchObject({ value: values[i], enumerable: true });
            }
            expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('builds a new object on every call (a handler may keep or change its params)', () => {
    const build = paramsBuilder(['id']);
    const a = build(['1']);
    const b = build(['2']);
    expect(a).not.toBe(b);
    expect([a.id, b.id]).toEqual(['1', '2']);
  });
});
