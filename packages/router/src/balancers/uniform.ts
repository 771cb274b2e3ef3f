import { isFunctionOption } from '@portcullis/core';

/** The `random` option, validated; `undefined` stands for the built-in source of {@link uniform}. */
export function randomOption(random: (() => number) | undefined): (() => number) | undefined {
  return random === undefined ? undefined : isFunctionOption(random, 'random');
}

/** Mulberry32's state, seeded once per process from `Math.random`. A typed array: storing into it allocates nothing. */
const state = new Int32Array([Math.floor(Math.random() * 4_294_967_296) | 0]);

/** 2^30: the default source draws 30-bit integers. */
const TWO_POW_30 = 1_073_741_824;

/**
 * A uniform number in [0, 1) from `random` when the caller gave one, else from a Mulberry32
 * generator kept here. Why not simply `Math.random`: in V8 every `Math.random()` returns a fresh
 * heap number (16 bytes), and a pick must not allocate. Mulberry32 runs on 32-bit integers and
 * yields 30-bit ones (small integers, never boxed), so the default path allocates nothing; 30 bits
 * are ample to choose among at most 10,000 endpoints. Not for secrets: nothing here needs to be
 * unpredictable, only spread evenly.
 */
export function uniform(random: (() => number) | undefined): number {
  if (random !== undefined) return random();
  const a = ((state[0] as number) + 0x6d2b79f5) | 0;
  state[0] = a;
  let t = Math.imul(a ^ (a >>> 15), a | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 2) / TWO_POW_30;
}
