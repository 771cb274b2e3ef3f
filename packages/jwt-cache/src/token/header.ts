import { JwtVerificationError } from '../errors.js';
import { decodeObject, malformed } from './segment.js';

/** What to do with header parameters that carry a key or say where to fetch one. */
export type KeyHeaderPolicy = 'reject' | 'ignore';

/** A protected header that passed the checks made before any key lookup. */
export interface TokenHeader {
  readonly header: Readonly<Record<string, unknown>>;
  readonly alg: string;
  readonly kid: string | undefined;
  readonly crit: readonly string[] | undefined;
}

// Header parameters that carry a key or point at one; keys only ever come from the configuration.
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

/**
 * Decodes the header segment and refuses what must never reach key lookup or crypto: no `alg`,
 * `alg: none`, embedded or remote keys (unless ignored), unencoded payloads (`b64: false`), a `kid`
 * that is not a string and a malformed `crit`.
 */
export function readHeader(segment: string, keyHeaders: KeyHeaderPolicy): TokenHeader {
  const header = decodeObject(segment, 'header');
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg === '') throw malformed('The token header has no "alg"');
  if (alg.length === 4 && alg.toLowerCase() === 'none') {
    throw new JwtVerificationError('algorithm', 'Unsecured tokens (alg "none") are never accepted');
  }
  if (keyHeaders === 'reject') {
    for (const name of KEY_HEADERS) {
      if (header[name] !== undefined) {
        throw new JwtVerificationError(
          'forbidden_header',
          `The token header carries "${name}"; keys are only taken from the configured key sets`,
        );
      }
    }
  }
  const b64 = header['b64'];
  if (b64 !== undefined && b64 !== true) {
    throw new JwtVerificationError('forbidden_header', 'Unencoded payloads ("b64": false) are not accepted');
  }
  const kid = header['kid'];
  if (kid !== undefined && typeof kid !== 'string') throw malformed('The token header "kid" is not a string');
  return { header, alg, kid, crit: checkCrit(header) };
}

function checkCrit(header: Readonly<Record<string, unknown>>): readonly string[] | undefined {
  const crit = header['crit'];
  if (crit === undefined) return undefined;
  if (
    !Array.isArray(crit) ||
    crit.length === 0 ||
    !crit.every((name) => typeof name === 'string' && name !== '' && Object.hasOwn(header, name)) ||
    new Set(crit).size !== crit.length
  ) {
    throw malformed('The token header "crit" must list distinct parameters present in the header');
  }
  return crit as string[];
}
