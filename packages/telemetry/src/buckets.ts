import { InvalidOptionError } from '@portcullis/core';

/** Histogram boundaries: a non-empty list of finite numbers in increasing order, or the default. */
export function bucketsOption(
  value: readonly number[] | undefined,
  fallback: readonly number[],
  option: string,
): readonly number[] {
  if (value === undefined) return fallback;
  const list: unknown = value;
  if (!Array.isArray(list) || list.length === 0 || !list.every(increasingFrom(list))) {
    throw new InvalidOptionError(option, value, 'a non-empty array of finite numbers in increasing order');
  }
  return Object.freeze([...value]);
}

function increasingFrom(list: readonly unknown[]): (b: unknown, i: number) => boolean {
  return (b, i) => typeof b === 'number' && Number.isFinite(b) && (i === 0 || b > (list[i - 1] as number));
}
