import { nonEmptyString } from '@portcullis/core';

/** A name that becomes a label value: a non-empty string of at most 200 characters, or the default. */
export function labelName(value: string | undefined, fallback: string, option: string): string {
  return value === undefined ? fallback : nonEmptyString(value, option, 200);
}

/** A name a package may leave out (a loader without `name`): the empty label value. */
export function optionalName(value: string | undefined): string {
  return value ?? '';
}
