import type { DiscoveryFailure } from './errors.js';

/**
 * Thrown by a source's refresh to say how it failed; the polling loop turns it into the
 * `DiscoveryError` its subscribers see (adding how stale the last good set is). Internal.
 */
export class RefreshFailure extends Error {
  readonly failure: DiscoveryFailure;
  readonly dnsCode: string | undefined;
  constructor(failure: DiscoveryFailure, detail: string, options: { dnsCode?: string; cause?: unknown } = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.failure = failure;
    this.dnsCode = options.dnsCode;
  }
}
