import { InvalidOptionError, isFunctionOption } from '@portcullis/core';
import { InvalidEndpointsError } from './errors.js';
import type { BalancerOptions, EndpointAccessors } from './types.js';

/**
 * The most endpoints one balancer takes. Bounds the memory of the hashing tables (Maglev keeps
 * 100 entries per endpoint) and the time of a rebuild; a pool is expected to hold hundreds.
 */
export const MAX_ENDPOINTS = 10_000;

/** An endpoint set as the balancers read it: validated once per update, then immutable. */
export interface EndpointSet<E> {
  /** The endpoints, in the order given (frozen). */
  readonly endpoints: readonly E[];
  /** `ids[i]` is the id of `endpoints[i]`. */
  readonly ids: readonly string[];
  /** `weights[i]` is the weight of `endpoints[i]`, >= 0. */
  readonly weights: Float64Array;
  /** Indexes of the endpoints whose weight is above 0, in list order. */
  readonly live: Int32Array;
  /** Σ of the weights. */
  readonly totalWeight: number;
  /** Every live endpoint has the same weight (the balancers take cheaper paths then). */
  readonly uniform: boolean;
}

/** Accessors with their defaults applied (validated once, by the factory). */
export interface Accessors<E> {
  /** `undefined`: the endpoints are their own ids (strings). */
  readonly id: ((endpoint: E) => string) | undefined;
  readonly weight: ((endpoint: E) => number) | undefined;
}

/** Validates the `id` and `weight` options of a balancer factory and applies their defaults. */
export function accessorsOf<E>(options: EndpointAccessors<E>): Accessors<E> {
  const id = options.id === undefined ? undefined : isFunctionOption(options.id, 'id');
  const weight = options.weight === undefined ? undefined : isFunctionOption(options.weight, 'weight');
  return { id, weight };
}

/** The `endpoints` option of a balancer factory: an array (or nothing). */
export function initialEndpoints<E>(options: BalancerOptions<E>): readonly E[] {
  const endpoints = options.endpoints ?? [];
  if (!isList(endpoints)) throw new InvalidOptionError('endpoints', endpoints, 'an array of endpoints');
  return endpoints;
}

/**
 * Reads and checks a whole endpoint set (ids present and distinct, weights finite and >= 0), or
 * throws an {@link InvalidEndpointsError}. O(n): runs on update, never on a pick.
 */
export function endpointSet<E>(endpoints: readonly E[], accessors: Accessors<E>): EndpointSet<E> {
  if (!isList(endpoints)) throw new InvalidEndpointsError(-1, 'expected an array of endpoints');
  if (endpoints.length > MAX_ENDPOINTS) {
    throw new InvalidEndpointsError(-1, `${String(endpoints.length)} endpoints, at most ${String(MAX_ENDPOINTS)}`);
  }
  const n = endpoints.length;
  const ids: string[] = new Array<string>(n);
  const weights = new Float64Array(n);
  const seen = new Set<string>();
  const live: number[] = [];
  let totalWeight = 0;
  for (let i = 0; i < n; i++) {
    const endpoint = endpoints[i] as E;
    const id = accessors.id === undefined ? endpoint : read(i, 'id', () => accessors.id?.(endpoint));
    if (typeof id !== 'string' || id === '') {
      throw new InvalidEndpointsError(
        i,
        accessors.id === undefined
          ? 'not a non-empty string (endpoints that are not strings need the `id` option)'
          : 'its id is not a non-empty string',
      );
    }
    if (seen.has(id)) throw new InvalidEndpointsError(i, `duplicate id ${JSON.stringify(id)}`);
    seen.add(id);
    ids[i] = id;
    const weight = accessors.weight === undefined ? 1 : read(i, 'weight', () => accessors.weight?.(endpoint));
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      throw new InvalidEndpointsError(
        i,
        `weight ${String(weight)} of ${JSON.stringify(id)} is not a finite number >= 0`,
      );
    }
    weights[i] = weight;
    totalWeight += weight;
    if (weight > 0) live.push(i);
  }
  let uniform = true;
  for (const i of live) if (weights[i] !== weights[live[0] as number]) uniform = false;
  return { endpoints: Object.freeze([...endpoints]), ids, weights, live: Int32Array.from(live), totalWeight, uniform };
}

function read<T>(index: number, what: string, accessor: () => T): T {
  try {
    return accessor();
  } catch (error) {
    throw new InvalidEndpointsError(index, `reading its ${what} threw`, { cause: error });
  }
}

/** `Array.isArray` without its type guard, which would widen a typed list to `any[]`. */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}
