import type { ConnectionOptions } from 'node:tls';
import { InvalidOptionError } from '@portcullis/core';

/**
 * How to reach a pool's endpoints over TLS: the `node:tls` connection settings that matter for an
 * upstream (a private CA, a client certificate for mTLS, the name to verify). The pool uses them
 * for its health checks and hands them on (`pool.tls`) to whatever forwards requests.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import type { UpstreamTlsOptions } from '@portcullis/router';
 *
 * const tls: UpstreamTlsOptions = { ca: readFileSync('internal-ca.pem'), servername: 'users.internal' };
 * ```
 */
export type UpstreamTlsOptions = Pick<
  ConnectionOptions,
  'ca' | 'cert' | 'key' | 'passphrase' | 'servername' | 'rejectUnauthorized' | 'minVersion'
>;

/** Validates the `tls` option: `true` is TLS with Node's defaults; `false` or absent is plain HTTP. */
export function tlsOption(tls: boolean | UpstreamTlsOptions | undefined): UpstreamTlsOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return Object.freeze({});
  if (typeof tls !== 'object' || (tls as unknown) === null || Array.isArray(tls)) {
    throw new InvalidOptionError('tls', tls, 'true, false or an object of TLS connection options');
  }
  return Object.freeze({ ...tls });
}
