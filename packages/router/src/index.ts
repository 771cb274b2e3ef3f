/**
 * Routing for API gateways (in development, not published yet): a route table with defined
 * precedence and path safety, weighted and sticky traffic splits, canary releases that roll
 * themselves back, upstream pools and forwarding. See `docs/router.md` as it grows.
 *
 * @packageDocumentation
 */
export {};
