/**
 * Routing for API gateways: a route table with precedence and path safety.
 *
 * @packageDocumentation
 */
// routes/ and http/ (route table, canonical path, guard)
export { canonicalPath } from './routes/canonical-path.js';
export { AmbiguousRoutesError, InvalidPathError, isAmbiguousRoutesError, isInvalidPathError } from './routes/errors.js';
export type { MatchRequest } from './routes/request-view.js';
export type { PredicateValue, Route, RouteDefinition } from './routes/route.js';
export { createRouteTable } from './routes/table.js';
export type { RouteMatchResult, RouteTable, RouteTableOptions, Versioning } from './routes/table.js';
export { RouteTableRef } from './routes/table-ref.js';
export { routerGuard } from './http/guard.js';
export type { RouteOutcome, RouterContext, RouterGuardOptions } from './http/guard.js';
