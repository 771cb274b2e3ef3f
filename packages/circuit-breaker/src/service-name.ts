import { createHash } from 'node:crypto';
import { InvalidOptionError } from '@portcullis/core';
import { MAX_NAME_LENGTH } from './breaker-options.js';

/**
 * The registry's key, and the breaker's name, for a service: the name itself up to 200 characters;
 * a longer one (a name derived from a client's request can be anything) is replaced by `h:` and
 * its SHA-256 in base64url, 45 characters, still one per distinct name (the rule the rate limiter
 * uses for long keys). So no name a client can send makes the registry throw.
 *
 * @throws InvalidOptionError naming `service` when it is not a non-empty string.
 */
export function serviceKey(service: unknown): string {
  if (typeof service !== 'string' || service.length === 0) {
    throw new InvalidOptionError('service', service, 'a non-empty string');
  }
  if (service.length <= MAX_NAME_LENGTH) return service;
  return `h:${createHash('sha256').update(service).digest('base64url')}`;
}
