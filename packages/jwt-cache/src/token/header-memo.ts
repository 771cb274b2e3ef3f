import { LRUCache } from 'lru-cache';
import { deepFreeze } from '../verified.js';
import { readHeader, type KeyHeaderPolicy, type TokenHeader } from './header.js';

// An issuer's tokens share a handful of headers (one per key and algorithm); more distinct ones
// than this are read each time. Longer headers are never kept.
const MAX_HEADERS = 64;
const MAX_HEADER_CHARS = 1_024;

/**
 * Remembers the headers that passed {@link readHeader}, by their segment: the same string always
 * reads the same, so a known one is not decoded and checked again. Bounded (least recently used
 * forgotten first); refused headers are never kept. The kept headers are deeply frozen, since every token
 * with that segment shares the object (its `VerifiedJwt.header` included).
 */
export class HeaderMemo {
  readonly #keyHeaders: KeyHeaderPolicy;
  readonly #known = new LRUCache<string, TokenHeader>({ max: MAX_HEADERS });

  constructor(keyHeaders: KeyHeaderPolicy) {
    this.#keyHeaders = keyHeaders;
  }

  /** How many headers are remembered. */
  get size(): number {
    return this.#known.size;
  }

  /** The checked header of `segment`; throws as {@link readHeader} does. */
  read(segment: string): TokenHeader {
    const known = this.#known.get(segment);
    if (known !== undefined) return known;
    const read = readHeader(segment, this.#keyHeaders);
    if (segment.length <= MAX_HEADER_CHARS) {
      deepFreeze(read.header);
      this.#known.set(segment, read);
    }
    return read;
  }
}
