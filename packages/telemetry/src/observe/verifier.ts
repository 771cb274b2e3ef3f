import { JWT } from '../catalogue.js';
import type { Instruments } from '../instruments.js';
import type { Disposer, ObservableVerifier } from '../sources.js';
import { disposer } from './disposer.js';

/**
 * A verifier's (or a JWKS source's) key set fetches, stale serving, kid misses, rotations and
 * revocations by source (the JWKS URL from configuration), and failed verifications by reason. A
 * token's `kid` and `iss` are never labels: they are whatever the client sent.
 */
export function observeVerifier(instruments: Instruments, verifier: ObservableVerifier): Disposer {
  const fetches = instruments.counter(JWT.fetches);
  const fetchDurations = instruments.histogram(JWT.fetchDuration);
  const stale = instruments.counter(JWT.stale);
  const kidMisses = instruments.counter(JWT.kidMisses);
  const rotations = instruments.counter(JWT.rotations);
  const revocations = instruments.counter(JWT.revocations);
  const failures = instruments.counter(JWT.failures);
  const { events } = verifier;
  return disposer([
    events.on('fetch', function recordFetch(e) {
      fetches.add({ source: e.source, reason: e.reason, result: e.ok ? 'ok' : 'error' });
      fetchDurations.record({ source: e.source }, e.durationMs / 1000);
    }),
    events.on('stale', (e) => {
      stale.add({ source: e.source });
    }),
    events.on('kidMiss', (e) => {
      kidMisses.add({ source: e.source, refetched: e.refetched ? 'true' : 'false' });
    }),
    events.on('rotation', (e) => {
      rotations.add({ source: e.source });
    }),
    events.on('revocation', (e) => {
      revocations.add({ source: e.source });
    }),
    events.on('failure', (e) => {
      failures.add({ reason: e.reason });
    }),
  ]);
}
