import type { Breaker, BreakerRegistry } from '@portcullis/circuit-breaker';
import type { Loader, LoaderFactory } from '@portcullis/dataloader-guard';
import type { JwksSource, JwtVerifier } from '@portcullis/jwt-cache';
import type { RateLimiter } from '@portcullis/ratelimit';
import type { Canary, Forwarder, RedisCanary, UpstreamPool } from '@portcullis/router';
import { describe, expect, test } from 'vitest';
import type {
  ObservableBreaker,
  ObservableBreakerRegistry,
  ObservableCanary,
  ObservableForwarder,
  ObservableLimiter,
  ObservableLoader,
  ObservablePool,
  ObservableVerifier,
} from './sources.js';

// Checked by the typecheck: each package's real object fits what telemetry reads of it. A change
// to an event's payload or a snapshot that telemetry relies on breaks this file, not a user's build.
const fits = {
  limiter: (x: RateLimiter): ObservableLimiter => x,
  breaker: (x: Breaker): ObservableBreaker => x,
  registry: (x: BreakerRegistry): ObservableBreakerRegistry => x,
  pool: (x: UpstreamPool): ObservablePool => x,
  canary: (x: Canary): ObservableCanary => x,
  redisCanary: (x: RedisCanary): ObservableCanary => x,
  loader: (x: Loader<string, unknown>): ObservableLoader => x,
  factory: (x: LoaderFactory<never>): ObservableLoader => x,
  forwarder: (x: Forwarder): ObservableForwarder => x,
  verifier: (x: JwtVerifier): ObservableVerifier => x,
  jwksSource: (x: JwksSource): ObservableVerifier => x,
};

describe('observable sources', () => {
  test("every package's object fits its structural type (a compile-time check)", () => {
    expect(Object.keys(fits)).toHaveLength(11);
  });
});
