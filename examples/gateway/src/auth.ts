import { respond, type Guard } from '@portcullis/core';
import { API_KEYS, type Customer } from './plans.js';

/** What the API-key guard adds to the request context. */
export interface CustomerContext {
  readonly apiKey: string;
  readonly customer: Customer;
}

/**
 * Identifies the customer by `x-api-key` and tells the upstream which tier it is, replacing any
 * `x-portcullis-tier` the client sent. (The JWT guard replaces this once `@portcullis/jwt-cache` lands.)
 */
export const apiKeyAuth: Guard<CustomerContext> = function apiKeyAuth(req) {
  const apiKey = req.header('x-api-key');
  const customer = apiKey === undefined ? undefined : API_KEYS[apiKey];
  if (apiKey === undefined || customer === undefined) {
    return respond(
      401,
      {
        type: 'about:blank',
        title: 'Unauthorized',
        status: 401,
        detail: 'Send x-api-key: demo-free, demo-pro or demo-enterprise',
      },
      { 'content-type': 'application/problem+json', 'www-authenticate': 'ApiKey' },
    );
  }
  return {
    action: 'continue',
    context: { apiKey, customer },
    upstreamHeaders: new Headers({ 'x-portcullis-tier': customer.tier }),
  };
};
