/**
 * Test fixtures for Portcullis: real Redis and Redis Cluster servers with fault injection, a manual
 * clock, local HTTP servers, a scriptable JWKS endpoint, a scriptable DNS server and signing keys.
 * Framework test apps live in the `/frameworks` subpath.
 *
 * @packageDocumentation
 */
export { startDnsServer } from './dns-server.js';
export type {
  DnsQuery,
  DnsRecord,
  DnsServer,
  DnsServerBehaviour,
  DnsZone,
  StartDnsServerOptions,
} from './dns-server.js';
export { isTestkitError, TestkitError } from './errors.js';
export type { TestkitErrorCode } from './errors.js';
export { freeClusterPort, freePort, isPortFree } from './free-port.js';
export { startHttpServer } from './http-server.js';
export type { HttpHandler, HttpServer } from './http-server.js';
export { serveJson } from './json-server.js';
export type { JsonServer, JsonServerBehaviour, ServeJsonOptions } from './json-server.js';
export { startJwksServer } from './jwks-server.js';
export type { JwksDocument, JwksServer, StartJwksServerOptions } from './jwks-server.js';
export { generateKeyPair } from './keys.js';
export type { PublicJwk, TestKeyAlgorithm, TestKeyPair } from './keys.js';
export { ManualClock } from './manual-clock.js';
export { parsePrometheusText, samplesOf, scrape, valueOf } from './prometheus-text.js';
export type { Sample } from './prometheus-text.js';
export { startRedisCluster } from './redis-cluster.js';
export type { RedisCluster, RedisClusterNode, StartRedisClusterOptions } from './redis-cluster.js';
export type { MigrateSlotOptions, SlotMigration } from './cluster-migrate.js';
export { clientsByReplySettings } from './reply-settings.js';
export type { ClientsByReplySettings } from './reply-settings.js';
export { startRedis } from './redis-server.js';
export type { RedisServer, StartRedisOptions } from './redis-server.js';
