import { finiteNumber, InvalidOptionError } from '@portcullis/core';
import type { EndpointSet } from './endpoint-set.js';
import { idHash } from './key-hash.js';
import { isPrime, nextPrime } from './prime.js';

/** Slots per endpoint a Maglev table keeps at least: what bounds its imbalance to 1 %. */
export const MAGLEV_SLOTS_PER_ENDPOINT = 100;

/** The default table size (Envoy's): a prime, 100 slots each for up to 655 endpoints. */
const DEFAULT_TABLE_SIZE = 65_537;

/** The largest table size accepted (2^24 - 3, a prime; 64 MiB of table). */
const MAX_TABLE_SIZE = 16_777_213;

/** The `tableSize` option: a prime from 101 to 2^24 - 3 (default 65,537). */
export function tableSizeOption(value: number | undefined): number {
  if (value === undefined) return DEFAULT_TABLE_SIZE;
  const size = finiteNumber(value, 'tableSize', { min: 101, max: MAX_TABLE_SIZE, integer: true });
  if (!isPrime(size)) throw new InvalidOptionError('tableSize', value, 'a prime number');
  return size;
}

/**
 * The table size for `live` endpoints: `size` while it holds 100 slots each, else the smallest
 * prime >= max(100 × live, 2 × size) (doubling, so a growing set does not rebuild at every step).
 */
export function fittedTableSize(live: number, size: number): number {
  const needed = live * MAGLEV_SLOTS_PER_ENDPOINT;
  return needed <= size ? size : nextPrime(Math.max(needed, 2 * size));
}

/**
 * Maglev's lookup table (Eisenbud et al., NSDI 2016, §3.4) with Envoy's weighting: each endpoint
 * id defines a permutation of the `size` slots (`offset + j × skip mod size`, from two hashes of
 * the id; `size` prime so every skip visits every slot); endpoints take turns claiming their next
 * free preferred slot until the table is full. An endpoint of weight `w` takes a turn in
 * `w / max weight` of the rounds, so it ends up with `size × w / Σ w` slots, within
 * `1 + w / max weight` above and `1 + k × w / Σ w` below (k endpoints); with equal weights, counts
 * differ by at most one.
 * Endpoints are visited in the order of their ids, so every gateway builds the same table from the
 * same set. Returns, for each slot, an index into `set.endpoints`. O(size × log size) expected.
 */
export function maglevTable(set: EndpointSet<unknown>, size: number): Int32Array {
  const table = new Int32Array(size).fill(-1);
  const order = Array.from(set.live).sort((a, b) => compare(set.ids[a] as string, set.ids[b] as string));
  const k = order.length;
  if (k === 0) return table;
  // Slots and skips are below 2^24 (the largest size), so Int32 arithmetic is exact.
  const position = new Int32Array(k);
  const skip = new Int32Array(k);
  const weight = new Float64Array(k);
  const turns = new Float64Array(k);
  let maxWeight = 0;
  order.forEach((endpoint, i) => {
    const id = set.ids[endpoint] as string;
    position[i] = idHash(id, 'maglev-offset') % size;
    skip[i] = (idHash(id, 'maglev-skip') % (size - 1)) + 1;
    weight[i] = set.weights[endpoint] as number;
    maxWeight = Math.max(maxWeight, weight[i]);
  });
  let filled = 0;
  for (let round = 0; ; round++) {
    for (let i = 0; i < k; i++) {
      // Envoy's rule: an endpoint of the largest weight claims a slot every round, one of a third
      // of it every third round, and so on.
      if (round * (weight[i] as number) < (turns[i] as number)) continue;
      turns[i] = (turns[i] as number) + maxWeight;
      const step = skip[i] as number;
      let slot = position[i] as number;
      while ((table[slot] as number) !== -1) {
        slot += step;
        if (slot >= size) slot -= size;
      }
      table[slot] = order[i] as number;
      slot += step;
      position[i] = slot >= size ? slot - size : slot;
      if (++filled === size) return table;
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
