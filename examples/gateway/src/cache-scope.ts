import type { Customer } from './plans.js';

/** Per customer (weakly: an identity lives as long as its requests or its key), its scope per service. */
const scopes = new WeakMap<Customer, Map<string, string>>();

/**
 * The fallback cache's scope of a read: everything the upstream's answer may depend on about the
 * caller (its id and tier, which the identity headers carry) and which service answered, as
 * `JSON.stringify([service, id, tier])`. Built once per customer and service, not per request.
 * Services come from configuration, so each customer's map stays small.
 *
 * @example
 * ```ts
 * cacheScope('users', { id: 'key:demo-pro', tier: 'pro', team: 'acme' }); // '["users","key:demo-pro","pro"]'
 * ```
 */
export function cacheScope(service: string, customer: Customer): string {
  let byService = scopes.get(customer);
  if (byService === undefined) {
    byService = new Map();
    scopes.set(customer, byService);
  }
  let scope = byService.get(service);
  if (scope === undefined) {
    scope = JSON.stringify([service, customer.id, customer.tier]);
    byService.set(service, scope);
  }
  return scope;
}
