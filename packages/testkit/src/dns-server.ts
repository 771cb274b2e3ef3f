import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { createServer } from 'node:net';
import type { Server as TcpServer, Socket as TcpSocket } from 'node:net';
import { AUTHORITATIVE_ANSWER, decode, encode, RECURSION_AVAILABLE, TRUNCATED_RESPONSE } from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import { TestkitError } from './errors.js';

/**
 * One record a {@link DnsServer} serves. `ttl` is in seconds (default 60).
 *
 * @example
 * ```ts
 * const records: DnsRecord[] = [
 *   { type: 'A', address: '10.0.0.1', ttl: 5 },
 *   { type: 'SRV', target: 'api-1.internal', port: 8080, priority: 10, weight: 3 },
 * ];
 * ```
 */
export type DnsRecord =
  | { readonly type: 'A'; readonly address: string; readonly ttl?: number }
  | { readonly type: 'AAAA'; readonly address: string; readonly ttl?: number }
  | {
      readonly type: 'SRV';
      readonly target: string;
      readonly port: number;
      /** Default 0. */
      readonly priority?: number;
      /** Default 0. */
      readonly weight?: number;
      readonly ttl?: number;
    };

/**
 * Names and their records. A name that is absent answers NXDOMAIN; a name with no record of the
 * asked type answers NOERROR with no answer (NODATA).
 *
 * @example
 * ```ts
 * const zone: DnsZone = { 'api.internal': [{ type: 'A', address: '10.0.0.1' }] };
 * ```
 */
export type DnsZone = Readonly<Record<string, readonly DnsRecord[]>>;

/**
 * How a {@link DnsServer} answers, switched at runtime with {@link DnsServer.behave}:
 *
 * - `answer`: from the zone (the default).
 * - `servfail`: SERVFAIL (rcode 2).
 * - `nxdomain`: NXDOMAIN (rcode 3), as if the name did not exist.
 * - `empty`: NOERROR with no answer (NODATA).
 * - `refused`: REFUSED (rcode 5).
 * - `drop`: no reply at all, so the client times out.
 *
 * A failure applies to every query, or only to those for `name` and/or of `type` (`'A'`,
 * `'AAAA'`, `'SRV'`) when given; the others are answered from the zone.
 *
 * @example
 * ```ts
 * const outage: DnsServerBehaviour = { kind: 'servfail' };
 * const ipv6Broken: DnsServerBehaviour = { kind: 'servfail', type: 'AAAA' };
 * ```
 */
export type DnsServerBehaviour =
  | { readonly kind: 'answer' }
  | {
      readonly kind: 'servfail' | 'nxdomain' | 'empty' | 'refused' | 'drop';
      readonly name?: string;
      readonly type?: 'A' | 'AAAA' | 'SRV';
    };

/**
 * One query as the server received it.
 *
 * @example
 * ```ts
 * const seen: DnsQuery = { name: 'api.internal', type: 'A', transport: 'udp' };
 * ```
 */
export interface DnsQuery {
  /** Lower-cased, without a trailing dot. */
  readonly name: string;
  /** `A`, `AAAA`, `SRV`… as dns-packet names it. */
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
}

/**
 * Options for {@link startDnsServer}.
 *
 * @example
 * ```ts
 * const options: StartDnsServerOptions = { zone: { 'api.internal': [{ type: 'A', address: '10.0.0.1' }] } };
 * ```
 */
export interface StartDnsServerOptions {
  /** The records served at start. Default is an empty zone (every name is NXDOMAIN). */
  zone?: DnsZone;
}

/**
 * A small authoritative DNS server on 127.0.0.1 (UDP and TCP on the same port) whose records and
 * failures a test changes at runtime. Answers too big for the client's UDP size (512 bytes, or its
 * EDNS size) are truncated (TC bit), so the client retries over TCP, as with a real server.
 *
 * @example
 * ```ts
 * await using dns = await startDnsServer({ zone: { 'api.internal': [{ type: 'A', address: '10.0.0.1' }] } });
 * const resolver = new Resolver();
 * resolver.setServers([dns.address]);
 * dns.setRecords('api.internal', [{ type: 'A', address: '10.0.0.2' }]);
 * dns.behave({ kind: 'servfail' });
 * ```
 */
export interface DnsServer extends AsyncDisposable {
  /** `127.0.0.1`. */
  readonly host: string;
  /** The UDP and TCP port. */
  readonly port: number;
  /** `127.0.0.1:<port>`, the form `Resolver.setServers` takes. */
  readonly address: string;
  /** Queries received so far (UDP and TCP), whatever the behaviour. */
  readonly queryCount: number;
  /** The last 1,000 queries, oldest first. */
  readonly queries: readonly DnsQuery[];
  /**
   * Resolves once `queryCount` reaches `count` (at once if it has), so a test waits for a client's
   * next query without sleeping. Rejects with `ERR_TESTKIT_STOPPED` if the server closes first.
   */
  waitForQueries(count: number): Promise<void>;
  /** Replaces the records of one name; `[]` keeps the name (NODATA) without records. */
  setRecords(name: string, records: readonly DnsRecord[]): void;
  /** Removes a name, so it answers NXDOMAIN. */
  deleteName(name: string): void;
  /** Replaces the whole zone. */
  setZone(zone: DnsZone): void;
  /** Switches behaviour; see {@link DnsServerBehaviour}. Takes effect for the next query. */
  behave(behaviour: DnsServerBehaviour): void;
  /** Closes both sockets and every TCP connection. Safe to call twice. */
  close(): Promise<void>;
}

const DEFAULT_TTL_SECONDS = 60;
const PLAIN_UDP_LIMIT = 512;
const QUERY_LOG_LIMIT = 1_000;
const MAX_TCP_MESSAGE = 65_535;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const HOST = '127.0.0.1';

/**
 * Starts a DNS server for tests of DNS clients (service discovery): A, AAAA and SRV records from a
 * {@link DnsZone}, changed with {@link DnsServer.setRecords}, failures with {@link DnsServer.behave}.
 *
 * @example
 * ```ts
 * import { Resolver } from 'node:dns/promises';
 * import { startDnsServer } from '@portcullis/testkit';
 *
 * await using dns = await startDnsServer({ zone: { 'api.internal': [{ type: 'A', address: '10.0.0.1', ttl: 5 }] } });
 * const resolver = new Resolver();
 * resolver.setServers([dns.address]);
 * await resolver.resolve4('api.internal', { ttl: true }); // [{ address: '10.0.0.1', ttl: 5 }]
 * ```
 */
export async function startDnsServer(options: StartDnsServerOptions = {}): Promise<DnsServer> {
  const zone = new Map<string, readonly DnsRecord[]>();
  const setZone = (next: DnsZone): void => {
    zone.clear();
    for (const [name, records] of Object.entries(next)) zone.set(canonicalName(name), validRecords(name, records));
  };
  setZone(options.zone ?? {});
  let behaviour: DnsServerBehaviour = { kind: 'answer' };
  let queryCount = 0;
  const queries: DnsQuery[] = [];
  const connections = new Set<TcpSocket>();
  const waiters = new Set<{ count: number; resolve: () => void; reject: (error: Error) => void }>();

  /** The reply to one query message, or undefined for no reply (`drop`, or not a query). */
  const reply = (message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined => {
    let query: DecodedPacket;
    try {
      query = decode(message);
    } catch {
      return undefined;
    }
    if (query.type !== 'query') return undefined;
    const question = query.questions?.[0];
    queryCount++;
    for (const waiter of waiters) {
      if (queryCount >= waiter.count) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
    if (question !== undefined) {
      queries.push({ name: canonicalName(question.name), type: question.type, transport });
      if (queries.length > QUERY_LOG_LIMIT) queries.shift();
    }
    const failure = question === undefined ? behaviour.kind : failureFor(behaviour, question);
    if (failure === 'drop') return undefined;
    const response = answer(query, question, failure, zone);
    const bytes = encode(response);
    if (transport === 'tcp' || bytes.length <= udpLimit(query)) return bytes;
    // Too big for UDP: send the header and question only, with TC set, so the client asks over TCP.
    return encode({ ...response, flags: (response.flags ?? 0) | TRUNCATED_RESPONSE, answers: [] });
  };

  const { udp, tcp, port } = await bindBoth(
    function onUdpMessage(this: UdpSocket, message: Buffer, from: RemoteInfo) {
      const bytes = reply(message, 'udp');
      if (bytes !== undefined) this.send(bytes, from.port, from.address);
    },
    function onTcpConnection(socket: TcpSocket) {
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
      socket.on('error', () => socket.destroy());
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        // Each message is prefixed by its length (RFC 1035 4.2.2).
        while (pending.length >= 2) {
          const length = pending.readUInt16BE(0);
          if (pending.length < 2 + length) break;
          const bytes = reply(pending.subarray(2, 2 + length), 'tcp');
          pending = pending.subarray(2 + length);
          if (bytes === undefined || bytes.length > MAX_TCP_MESSAGE) continue;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(bytes.length, 0);
          socket.write(Buffer.concat([prefix, bytes]));
        }
      });
    },
  );

  let closed: Promise<void> | undefined;
  const close = async function close(): Promise<void> {
    closed ??= (async () => {
      for (const waiter of waiters) waiter.reject(new TestkitError('ERR_TESTKIT_STOPPED', 'DnsServer closed'));
      waiters.clear();
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => {
          udp.close(() => {
            resolve();
          });
        }),
        new Promise<void>((resolve) => {
          tcp.close(() => {
            resolve();
          });
        }),
      ]);
    })();
    await closed;
  };

  return {
    host: HOST,
    port,
    address: `${HOST}:${String(port)}`,
    get queryCount() {
      return queryCount;
    },
    get queries() {
      return [...queries];
    },
    waitForQueries: function waitForQueries(count: number): Promise<void> {
      if (queryCount >= count) return Promise.resolve();
      if (closed !== undefined) return Promise.reject(new TestkitError('ERR_TESTKIT_STOPPED', 'DnsServer closed'));
      return new Promise<void>((resolve, reject) => {
        waiters.add({ count, resolve, reject });
      });
    },
    setRecords: function setRecords(name: string, records: readonly DnsRecord[]): void {
      zone.set(canonicalName(name), validRecords(name, records));
    },
    deleteName: function deleteName(name: string): void {
      zone.delete(canonicalName(name));
    },
    setZone,
    behave: function behave(next: DnsServerBehaviour): void {
      const kinds: readonly string[] = ['answer', 'servfail', 'nxdomain', 'empty', 'refused', 'drop'];
      if (!kinds.includes(next.kind)) {
        throw new TestkitError('ERR_TESTKIT_INVALID_OPTION', `DnsServer.behave: unknown kind ${next.kind}`);
      }
      behaviour = next;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function answer(
  query: DecodedPacket,
  question: Question | undefined,
  failure: DnsServerBehaviour['kind'],
  zone: ReadonlyMap<string, readonly DnsRecord[]>,
): Packet {
  const response = (rcode: number, answers: Answer[] = []): Packet => ({
    type: 'response',
    id: query.id ?? 0,
    // The client's RD bit is echoed; AA because this server is the authority for its zone.
    flags: ((query.flags ?? 0) & 0x0100) | AUTHORITATIVE_ANSWER | RECURSION_AVAILABLE | rcode,
    questions: question === undefined ? [] : [question],
    answers,
  });
  if (question === undefined) return response(RCODE.FORMERR);
  switch (failure) {
    case 'servfail':
      return response(RCODE.SERVFAIL);
    case 'nxdomain':
      return response(RCODE.NXDOMAIN);
    case 'refused':
      return response(RCODE.REFUSED);
    case 'empty':
      return response(RCODE.NOERROR);
    default:
      break;
  }
  const records = zone.get(canonicalName(question.name));
  if (records === undefined) return response(RCODE.NXDOMAIN);
  const answers: Answer[] = [];
  for (const record of records) {
    if (record.type !== question.type) continue;
    const ttl = record.ttl ?? DEFAULT_TTL_SECONDS;
    if (record.type === 'SRV') {
      answers.push({
        type: 'SRV',
        name: question.name,
        ttl,
        data: { target: record.target, port: record.port, priority: record.priority ?? 0, weight: record.weight ?? 0 },
      });
    } else {
      answers.push({ type: record.type, name: question.name, ttl, data: record.address });
    }
  }
  return response(RCODE.NOERROR, answers);
}

/** The behaviour's kind when it applies to this question, else `answer`. */
function failureFor(behaviour: DnsServerBehaviour, question: Question): DnsServerBehaviour['kind'] {
  if (behaviour.kind === 'answer') return 'answer';
  if (behaviour.name !== undefined && canonicalName(behaviour.name) !== canonicalName(question.name)) return 'answer';
  if (behaviour.type !== undefined && behaviour.type !== question.type) return 'answer';
  return behaviour.kind;
}

/** The largest UDP answer the client accepts: its EDNS size when it sent one, else 512 bytes. */
function udpLimit(query: DecodedPacket): number {
  for (const extra of query.additionals ?? []) {
    if (extra.type === 'OPT') return Math.max(PLAIN_UDP_LIMIT, extra.udpPayloadSize);
  }
  return PLAIN_UDP_LIMIT;
}

function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function validRecords(name: string, records: readonly DnsRecord[]): readonly DnsRecord[] {
  const invalid = (index: number, why: string): never => {
    throw new TestkitError('ERR_TESTKIT_INVALID_OPTION', `DNS records of "${name}" [${String(index)}]: ${why}`);
  };
  records.forEach((record, index) => {
    const ttl = record.ttl ?? DEFAULT_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 0x7fffffff)
      invalid(index, `ttl must be an integer in [0, 2^31), got ${String(ttl)}`);
    switch (record.type) {
      case 'A':
        if (!isIPv4(record.address)) invalid(index, `not an IPv4 address: ${record.address}`);
        break;
      case 'AAAA':
        if (!isIPv6(record.address)) invalid(index, `not an IPv6 address: ${record.address}`);
        break;
      case 'SRV':
        for (const [field, value] of [
          ['port', record.port],
          ['priority', record.priority ?? 0],
          ['weight', record.weight ?? 0],
        ] as const) {
          if (!Number.isInteger(value) || value < 0 || value > 65_535) {
            invalid(index, `${field} must be an integer in [0, 65535], got ${String(value)}`);
          }
        }
        if (record.target.length === 0) invalid(index, 'empty SRV target');
        break;
      default:
        invalid(index, `unsupported type ${String((record as { type: unknown }).type)}`);
    }
  });
  return [...records];
}

/** Binds UDP on a free port, then TCP on the same one; draws again when TCP's is taken. */
async function bindBoth(
  onUdpMessage: (this: UdpSocket, message: Buffer, from: RemoteInfo) => void,
  onTcpConnection: (socket: TcpSocket) => void,
): Promise<{ udp: UdpSocket; tcp: TcpServer; port: number }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket('udp4');
    udp.on('message', onUdpMessage);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, HOST, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    // A malformed datagram or a send to a vanished client must not kill the test.
    udp.on('error', () => undefined);
    const port = udp.address().port;
    const tcp = createServer(onTcpConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port, host: HOST, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port };
    } catch (error) {
      lastError = error;
      udp.close();
    }
  }
  throw new TestkitError('ERR_TESTKIT_START_FAILED', 'startDnsServer: no port was free for both UDP and TCP', {
    cause: lastError,
  });
}
