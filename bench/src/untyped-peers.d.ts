// Types for the peer libraries of bench/src/balancers.ts that ship none (only what the bench calls).

declare module 'hashring' {
  /** A ketama-compatible ring (md5, 40 vnodes × 4 replicas per server, an LRU of 5,000 keys). */
  export default class HashRing {
    constructor(servers: readonly string[] | Readonly<Record<string, number>>, algorithm?: string, options?: object);
    get(key: string): string;
    remove(server: string): this;
  }
}

declare module 'consistent-hash' {
  /** A ring of 40 control points per node (weight = number of points). */
  export default class ConsistentHash {
    constructor(options?: { range?: number; weight?: number });
    add(node: string, weight?: number): this;
    get(key: string): string | null;
    remove(node: string): this;
  }
}

declare module 'skeleton-rendezvous' {
  /** Rendezvous hashing over a virtual tree of clusters (md5 per score), unweighted. */
  export default class SkeletonRendezvousHasher {
    constructor(options: { sites: readonly string[]; fanout?: number });
    findSite(key: string): string | null;
    removeSites(sites: readonly string[]): void;
  }
}

declare module 'wrr-pool' {
  /** LVS's interleaved weighted round robin. */
  export default class Pool<T> {
    add(value: T, weight: number): void;
    next(): T | null;
  }
}
