/**
 * The contract between a discovery source (a static list, DNS, an async function) and the upstream
 * pool that follows it. Types only.
 */

/** One endpoint as a discovery source reports it. */
export interface DiscoveredEndpoint {
  /** A host name or an IP literal (IPv6 without brackets). */
  readonly host: string;
  /** 1–65535. */
  readonly port: number;
  /** Relative weight, finite and >= 0 (0: never picked). Default 1. */
  readonly weight?: number | undefined;
  /** Optional locality (e.g. `eu-west-1a`), for zone-aware routing and for reading in events. */
  readonly zone?: string | undefined;
  /** Free-form labels carried to events and the balancer's accessors. */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** What a discovery source tells its subscriber. */
export interface DiscoveryListener {
  /** A complete new endpoint set (not a delta). Sent only when it differs from the last one. */
  update(endpoints: readonly DiscoveredEndpoint[]): void;
  /** A failed refresh; the subscriber keeps the last good set. */
  error(error: unknown): void;
}

/** A source of endpoints for an upstream pool. */
export interface DiscoverySource {
  /**
   * Starts watching and reports the first set as soon as it is known; returns a function that
   * stops watching (idempotent) and cancels its timers.
   */
  subscribe(listener: DiscoveryListener): () => void;
}
