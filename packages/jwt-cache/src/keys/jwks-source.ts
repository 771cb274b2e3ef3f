import { InvalidOptionError, reportUnhandled, type Clock, type Emitter } from '@portcullis/core';
import { JwksUnavailableError, JwtVerificationError, type JwksFetchError } from '../errors.js';
import type { JwksFetchReason, JwtCacheEvents } from '../events.js';
import { fetchJwks } from './fetch-jwks.js';
import type { KeyEntry } from './key-entry.js';
import { KEY_MISMATCH, KEY_REVOKED, KeySet } from './key-set.js';
import { resolveJwksOptions, type JwksCacheOptions, type ResolvedJwksOptions } from './jwks-options.js';
import { registerProvider, type KeyProvider } from './provider.js';
import { checkSnapshot, type JwksSnapshot } from './snapshot.js';

/**
 * Options of {@link createJwksSource}.
 *
 * @example
 * ```ts
 * import type { JwksSourceOptions } from '@portcullis/jwt-cache';
 *
 * const options: JwksSourceOptions = {
 *   url: 'https://idp.example.com/.well-known/jwks.json',
 *   rotationGraceMs: 30 * 60_000,
 *   kidMissCooldownMs: 60_000,
 * };
 * ```
 */
export interface JwksSourceOptions extends JwksCacheOptions {
  /** The key set's URL (`https:` in production). Required. */
  url: string | URL;
  /** Time source for freshness, cooldowns and grace. Default `systemClock`. */
  clock?: Clock | undefined;
  /** Where events are reported. Default: an emitter of its own (`source.events`). */
  events?: Emitter<JwtCacheEvents> | undefined;
  /** A set to start from (persisted earlier, or shared by another instance); see {@link JwksSnapshot}. */
  snapshot?: JwksSnapshot | undefined;
  /** Called with a snapshot after every successful fetch, to persist or share it. Default: none. */
  onSnapshot?: ((snapshot: JwksSnapshot) => void) | undefined;
}

/**
 * Where a remote key set stands, for health checks and dashboards.
 *
 * @example
 * ```ts
 * const { servableUntil } = source.state();
 * const healthy = Date.now() < servableUntil;
 * ```
 */
export interface JwksSourceState {
  /** Kids (or `(no kid)`) of the served keys. */
  readonly keys: readonly string[];
  /** Kids of keys in their rotation grace. */
  readonly retiring: readonly string[];
  /** Last successful fetch (epoch ms), `undefined` before the first. */
  readonly fetchedAt: number | undefined;
  /** When the set stops being fresh (epoch ms), `undefined` before the first fetch. */
  readonly expiresAt: number | undefined;
  /** Until when the set may be served, stale-if-error included (epoch ms). */
  readonly servableUntil: number | undefined;
  /** The last fetch's error, when the last fetch failed. */
  readonly lastError: JwksFetchError | undefined;
}

/**
 * A remote JSON Web Key Set, cached: see {@link createJwksSource}.
 *
 * @example
 * ```ts
 * import { createJwksSource } from '@portcullis/jwt-cache';
 *
 * using source = createJwksSource({ url: 'https://idp.example.com/.well-known/jwks.json' });
 * await source.refresh();
 * source.revoke('compromised-kid');
 * ```
 */
export interface JwksSource extends Disposable {
  /** The key set's URL. */
  readonly url: string;
  /** Fetches, refreshes, stale serving, kid misses, rotations and revocations. */
  readonly events: Emitter<JwtCacheEvents>;
  /**
   * Fetches the set now (or joins the fetch in flight), whatever the cooldowns. Resolves true when
   * the set was replaced, false when the fetch failed (never rejects).
   */
  refresh(): Promise<boolean>;
  /**
   * Revokes a key: it stops verifying at once (tokens cached with it included) and stays revoked
   * if the set lists it again. Returns true when the source held such a key.
   */
  revoke(kid: string): boolean;
  /** The set as a {@link JwksSnapshot}, or `undefined` before the first fetch. */
  snapshot(): JwksSnapshot | undefined;
  /**
   * Loads a snapshot unless the source already holds a set fetched later. Returns true when it was
   * loaded.
   * @throws InvalidOptionError when it is not a snapshot of this URL.
   */
  restore(snapshot: JwksSnapshot): boolean;
  /** Where the set stands. */
  state(): JwksSourceState;
  /** Stops the refresh timer and aborts a fetch in flight. Safe to call twice. */
  dispose(): void;
}

/**
 * A remote JWKS, cached in memory for verifiers to share (issuers naming the same URL in one
 * verifier share one automatically; pass a source as an issuer's `jwks` to share it between
 * verifiers).
 *
 * - **Freshness:** `Cache-Control: max-age` within [`minTtlMs`, `maxTtlMs`], else `ttlMs`; a
 *   refresh starts `refreshAheadMs` before expiry, in the background.
 * - **One fetch at a time:** every reason to fetch joins the fetch in flight.
 * - **Unknown kid:** refetched at most once per `kidMissCooldownMs`; that budget is separate from
 *   scheduled refreshes, so attacker-chosen kids cannot delay a real rotation being seen.
 * - **Rotation grace:** a key that leaves the set verifies for `rotationGraceMs` more.
 * - **Revocation:** `revoke(kid)` stops a key at once, cached tokens included.
 * - **Stale-if-error:** when fetches fail the last good set is served up to `maxStaleMs` past its
 *   expiry (`stale` event), then verification fails closed with a `JwksUnavailableError`.
 * - **Bounded:** fetch timeout and body cap, `maxKeys`, `maxRevokedKids`; one unref'd timer.
 *
 * Only keys with a key type, curve and `use` fit for signatures are kept; secrets (`kty: 'oct'`)
 * in a remote set are ignored.
 *
 * @param options - See {@link JwksSourceOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import { createJwksSource, createJwtVerifier } from '@portcullis/jwt-cache';
 *
 * const jwks = createJwksSource({ url: 'https://idp.example.com/.well-known/jwks.json' });
 * jwks.events.on('stale', (e) => console.warn('JWKS endpoint failing; serving last good keys', e.error));
 *
 * const verifier = createJwtVerifier({
 *   issuers: { 'https://idp.example.com/': { jwks, audience: 'orders-api' } },
 * });
 * ```
 */
export function createJwksSource(options: JwksSourceOptions): JwksSource {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const url = jwksUrl(options.url, 'url');
  const resolved = resolveJwksOptions(options, { clock: options.clock, events: options.events });
  const onSnapshot = options.onSnapshot;
  if (onSnapshot !== undefined && typeof onSnapshot !== 'function') {
    throw new InvalidOptionError('onSnapshot', onSnapshot, 'a function');
  }
  const source = new RemoteJwksSource(url, resolved, onSnapshot);
  if (options.snapshot !== undefined) source.restore(checkSnapshot(options.snapshot, url, 'snapshot'));
  return source;
}

/** An absolute http(s) URL as a string. */
export function jwksUrl(value: unknown, option: string): string {
  let parsed: URL | undefined;
  try {
    parsed = typeof value === 'string' || value instanceof URL ? new URL(value) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw new InvalidOptionError(option, value, 'an absolute http(s) URL');
  }
  return parsed.href;
}

class RemoteJwksSource implements JwksSource, KeyProvider {
  readonly url: string;
  readonly label: string;
  readonly events: Emitter<JwtCacheEvents>;
  readonly #o: ResolvedJwksOptions;
  readonly #clock: Clock;
  readonly #set: KeySet;
  readonly #onSnapshot: ((snapshot: JwksSnapshot) => void) | undefined;
  readonly #abort = new AbortController();
  #loaded = false;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #expiresAt = Number.NEGATIVE_INFINITY;
  #refreshAt = Number.POSITIVE_INFINITY;
  #servableUntil = Number.NEGATIVE_INFINITY;
  #inflight: Promise<boolean> | undefined;
  #lastError: JwksFetchError | undefined;
  /** Automatic fetches wait until then after a failure. */
  #retryAt = Number.NEGATIVE_INFINITY;
  #kidMissFetchAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(url: string, options: ResolvedJwksOptions, onSnapshot: ((snapshot: JwksSnapshot) => void) | undefined) {
    this.url = url;
    this.label = url;
    this.events = options.events;
    this.#o = options;
    this.#clock = options.clock;
    this.#onSnapshot = onSnapshot;
    this.#set = new KeySet({ maxKeys: options.maxKeys, maxRevoked: options.maxRevokedKids, allowSecrets: false });
    registerProvider(this, this);
  }

  resolve(kid: string | undefined, alg: string, issuer: string): KeyEntry | Promise<KeyEntry> {
    const now = this.#clock.now();
    if (!this.servable(now)) return this.#resolveAfterLoad(kid, alg, issuer);
    return this.#find(kid, alg, issuer, now) ?? this.#onMiss(kid, alg, issuer, now);
  }

  servable(now: number): boolean {
    if (now >= this.#refreshAt) this.#refreshInBackground(now);
    return now < this.#servableUntil;
  }

  selects(key: KeyEntry, kid: string | undefined, alg: string, now: number): boolean {
    return this.servable(now) && this.#set.selects(key, kid, alg, now);
  }

  refresh(): Promise<boolean> {
    return this.#inflight ?? this.#fetch('manual');
  }

  revoke(kid: string): boolean {
    return this.revokeKid(kid) > 0;
  }

  revokeKid(kid: string): number {
    const held = this.#set.revoke(kid, this.#clock.now());
    this.events.emit('revocation', { source: this.url, kid });
    return held;
  }

  snapshot(): JwksSnapshot | undefined {
    if (!this.#loaded) return undefined;
    return {
      version: 1,
      url: this.url,
      fetchedAt: this.#fetchedAt,
      expiresAt: this.#expiresAt,
      keys: this.#set.activeJwks(),
      retiring: this.#set.retiringKeys(this.#clock.now()),
      revoked: this.#set.revokedKids(),
    };
  }

  restore(snapshot: JwksSnapshot): boolean {
    const checked = checkSnapshot(snapshot, this.url, 'snapshot');
    if (this.#loaded && checked.fetchedAt <= this.#fetchedAt) return false;
    const now = this.#clock.now();
    this.#set.replace(checked.keys, now, this.#o.rotationGraceMs);
    this.#set.restore(checked.retiring, checked.revoked, now);
    this.#loaded = true;
    this.#setTimes(checked.fetchedAt, checked.expiresAt);
    this.#schedule(this.#refreshAt);
    return true;
  }

  state(): JwksSourceState {
    const now = this.#clock.now();
    const loaded = this.#loaded;
    return {
      keys: this.#set.activeJwks().map((jwk) => jwk.kid ?? '(no kid)'),
      retiring: this.#set.retiringKeys(now).map(({ jwk }) => jwk.kid ?? '(no kid)'),
      fetchedAt: loaded ? this.#fetchedAt : undefined,
      expiresAt: loaded ? this.#expiresAt : undefined,
      servableUntil: loaded ? this.#servableUntil : undefined,
      lastError: this.#lastError,
    };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  async #resolveAfterLoad(kid: string | undefined, alg: string, issuer: string): Promise<KeyEntry> {
    await this.#load();
    const now = this.#clock.now();
    if (!(now < this.#servableUntil)) throw this.#unavailable(issuer, kid);
    return this.#find(kid, alg, issuer, now) ?? this.#onMiss(kid, alg, issuer, now);
  }

  /** Joins the fetch in flight or starts one, unless a recent failure says to wait. */
  #load(): Promise<boolean> {
    if (this.#inflight !== undefined) return this.#inflight;
    if (this.#disposed || this.#clock.now() < this.#retryAt) return Promise.resolve(false);
    return this.#fetch(this.#loaded ? 'expired' : 'initial');
  }

  #find(kid: string | undefined, alg: string, issuer: string, now: number): KeyEntry | undefined {
    const found = this.#set.find(kid, alg, now);
    if (found === KEY_REVOKED) {
      throw new JwtVerificationError('key_revoked', `The signing key ${describeKid(kid)} of ${this.url} was revoked`, {
        issuer,
        kid,
      });
    }
    if (found === KEY_MISMATCH) {
      throw new JwtVerificationError(
        'algorithm',
        `The signing key ${describeKid(kid)} of ${this.url} cannot verify ${alg} signatures`,
        { issuer, kid },
      );
    }
    return found;
  }

  async #onMiss(kid: string | undefined, alg: string, issuer: string, now: number): Promise<KeyEntry> {
    let pending = this.#inflight;
    if (pending === undefined && !this.#disposed && now - this.#kidMissFetchAt >= this.#o.kidMissCooldownMs) {
      this.#kidMissFetchAt = now;
      pending = this.#fetch('kid_miss');
    }
    this.events.emit('kidMiss', { source: this.url, kid, refetched: pending !== undefined });
    if (pending !== undefined) {
      await pending;
      const later = this.#clock.now();
      if (!(later < this.#servableUntil)) throw this.#unavailable(issuer, kid);
      const found = this.#find(kid, alg, issuer, later);
      if (found !== undefined) return found;
    }
    throw new JwtVerificationError(
      'key_not_found',
      kid === undefined
        ? `The token has no kid and no single key of ${this.url} fits ${alg}`
        : `No key of ${this.url} has the kid ${JSON.stringify(kid.slice(0, 64))}`,
      { issuer, kid },
    );
  }

  #unavailable(issuer: string, kid: string | undefined): JwksUnavailableError {
    const error = this.#lastError;
    const why = error === undefined ? 'no fetch has succeeded yet' : error.message;
    const message = this.#loaded
      ? `The key set ${this.url} is more than maxStaleMs (${this.#o.maxStaleMs} ms) past its expiry and cannot be refreshed: ${why}`
      : `The key set ${this.url} could not be fetched: ${why}`;
    return new JwksUnavailableError(this.url, message, { issuer, kid, cause: error });
  }

  #refreshInBackground(now: number): void {
    if (this.#disposed || this.#inflight !== undefined || now < this.#retryAt) return;
    void this.#fetch('scheduled');
  }

  /** Starts a fetch; the promise resolves true when the set was replaced and never rejects. */
  #fetch(reason: JwksFetchReason): Promise<boolean> {
    const started = performance.now();
    const run = async (): Promise<boolean> => {
      try {
        const fetched = await fetchJwks(this.url, {
          fetch: this.#o.fetch,
          redirects: this.#o.redirects,
          timeoutMs: this.#o.fetchTimeoutMs,
          maxBytes: this.#o.maxResponseBytes,
          signal: this.#abort.signal,
        });
        if (this.#disposed) return false;
        this.#apply(fetched.keys, fetched.maxAgeMs, reason, performance.now() - started);
        return true;
      } catch (error) {
        if (!this.#disposed) this.#failed(error as JwksFetchError, reason, performance.now() - started);
        return false;
      } finally {
        this.#inflight = undefined;
      }
    };
    const pending = run();
    this.#inflight = pending;
    return pending;
  }

  #apply(keys: readonly unknown[], maxAgeMs: number | undefined, reason: JwksFetchReason, durationMs: number): void {
    const now = this.#clock.now();
    const { rotationGraceMs } = this.#o;
    const wasLoaded = this.#loaded;
    const change = this.#set.replace(keys, now, rotationGraceMs);
    const ttlMs = Math.min(this.#o.maxTtlMs, Math.max(this.#o.minTtlMs, maxAgeMs ?? this.#o.ttlMs));
    this.#loaded = true;
    this.#lastError = undefined;
    this.#retryAt = Number.NEGATIVE_INFINITY;
    this.#setTimes(now, now + ttlMs);
    const events = this.events;
    const size = this.#set.size;
    events.emit('fetch', { source: this.url, reason, ok: true, durationMs, keys: size });
    events.emit('refresh', { source: this.url, reason, ttlMs, keys: size });
    if (wasLoaded && (change.added.length > 0 || change.retired.length > 0)) {
      events.emit('rotation', {
        source: this.url,
        added: change.added,
        retired: change.retired,
        graceUntil: now + rotationGraceMs,
      });
    }
    this.#schedule(this.#refreshAt);
    const onSnapshot = this.#onSnapshot;
    if (onSnapshot !== undefined) {
      try {
        onSnapshot(this.snapshot() as JwksSnapshot);
      } catch (error) {
        reportUnhandled(error, 'onSnapshot');
      }
    }
  }

  #failed(error: JwksFetchError, reason: JwksFetchReason, durationMs: number): void {
    const now = this.#clock.now();
    this.#lastError = error;
    this.#retryAt = now + this.#o.errorRetryMs;
    this.events.emit('fetch', { source: this.url, reason, ok: false, durationMs, error });
    if (this.#loaded && now < this.#servableUntil) {
      this.events.emit('stale', {
        source: this.url,
        staleForMs: Math.max(0, now - this.#expiresAt),
        servableUntil: this.#servableUntil,
        error,
      });
    }
    this.#schedule(this.#retryAt);
  }

  #setTimes(fetchedAt: number, expiresAt: number): void {
    const ttl = Math.max(0, expiresAt - fetchedAt);
    this.#fetchedAt = fetchedAt;
    this.#expiresAt = expiresAt;
    this.#refreshAt = expiresAt - Math.min(this.#o.refreshAheadMs, ttl / 2);
    this.#servableUntil = expiresAt + this.#o.maxStaleMs;
  }

  /** One timer per source, unref'd: the next refresh (or retry) even when no token arrives. */
  #schedule(at: number): void {
    if (!this.#o.backgroundRefresh || this.#disposed) return;
    clearTimeout(this.#timer);
    const delay = Math.min(Math.max(at - this.#clock.now(), 0), 2_147_483_647);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refreshInBackground(this.#clock.now());
    }, delay);
    (this.#timer as { unref?: () => void }).unref?.();
  }
}

function describeKid(kid: string | undefined): string {
  return kid === undefined ? '(no kid)' : JSON.stringify(kid.slice(0, 64));
}
