import { describe, expect, test } from 'vitest';
import { mergeContext } from './context.js';

describe('mergeContext', () => {
  test('merges what a guard added over what was there, the guard winning per key', () => {
    expect(mergeContext({ user: 'ada', role: 'viewer' }, { role: 'admin', tenant: 'acme' })).toEqual({
      user: 'ada',
      role: 'admin',
      tenant: 'acme',
    });
  });

  test('allocates nothing when one side is missing', () => {
    const existing = { user: 'ada' };
    const added = { tenant: 'acme' };
    expect(mergeContext(existing, undefined)).toBe(existing);
    expect(mergeContext(undefined, added)).toBe(added);
    expect(mergeContext(null, added)).toBe(added);
    expect(mergeContext(undefined, undefined)).toEqual({});
  });
});
