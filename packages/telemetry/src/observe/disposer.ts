import type { Disposer } from '../sources.js';

/** One disposer for several removals; later calls do nothing. */
export function disposer(removals: readonly (() => void)[]): Disposer {
  let pending: readonly (() => void)[] | undefined = removals;
  return function dispose(): void {
    const list = pending;
    pending = undefined;
    if (list !== undefined) for (const remove of list) remove();
  };
}
