import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PROBLEM_JSON, problemDetails } from '@portcullis/core';
import type { EndpointLease, EndpointOutcome } from '../pool/lease.js';
import { NoEndpointError, RequestFramingError, UpstreamFailureError, type UpstreamFailure } from './errors.js';
import type { ForwardResult } from './exchange.js';
import { classifyFailure, failureStatus } from './failure.js';
import type { ForwardOptions, ForwardSettings } from './forwarder.js';
import { framingProblem } from './framing.js';
import { connectionListed, HOP_BY_HOP } from './hop-by-hop.js';

/**
 * Forwards an HTTP/1.1 upgrade (a WebSocket handshake) to an endpoint over a fresh connection
 * (`node:http`, not the keep-alive pool: the connection becomes the tunnel). On the endpoint's
 * `101` the answer goes to the client (hop-by-hop headers dropped, `Connection: Upgrade` and its
 * `Upgrade` kept) and the two sockets are piped both ways until either closes; any other answer
 * is relayed and the connection closed. Timeouts, refusals and resets are answered 504 / 502 as
 * for plain requests; a client that leaves aborts the upstream attempt. Upgrades are not retried.
 */
export function forwardUpgrade(
  settings: ForwardSettings,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  call: ForwardOptions,
  headers: string[],
  done: ((result: ForwardResult) => void) | undefined,
): void {
  // The server handed the socket over: an error on it must not go unheard (it would crash).
  socket.on('error', ignore);
  const startedAt = settings.clock.now();
  const report = (status: number, error: unknown, lease: EndpointLease | undefined, aborted: boolean): void => {
    if (done === undefined) return;
    const result: ForwardResult = {
      status,
      durationMs: Math.max(0, settings.clock.now() - startedAt),
      attempts: lease === undefined ? 0 : 1,
      endpoint: lease?.id,
    };
    if (aborted) result.aborted = true;
    if (error !== undefined) result.error = error;
    done(result);
  };

  const problem = framingProblem(req);
  const upgrade = req.headers.upgrade;
  const connection = req.headers.connection ?? '';
  if (problem !== undefined || upgrade === undefined || !/(?:^|,)\s*upgrade\s*(?:,|$)/i.test(connection)) {
    const reason = problem ?? 'an upgrade request needs Upgrade and Connection: upgrade';
    writeRawProblem(socket, 400, `The request's framing is ambiguous: ${reason}.`);
    report(400, new RequestFramingError(reason), undefined, false);
    return;
  }
  const lease = call.endpoints.acquire(call.key);
  if (lease === undefined) {
    writeRawProblem(socket, 503, 'The upstream has no endpoint available.');
    report(503, new NoEndpointError(), undefined, false);
    return;
  }
  const leaseStartedAt = settings.clock.now();
  const endpoint = lease.id;
  let completed = false;
  const complete = (outcome: Omit<EndpointOutcome, 'durationMs'>): void => {
    if (completed) return;
    completed = true;
    const durationMs = Math.max(0, settings.clock.now() - leaseStartedAt);
    const full: EndpointOutcome =
      outcome.failure === undefined ? { status: outcome.status, durationMs } : { failure: outcome.failure, durationMs };
    lease.complete(full);
    const { events } = settings;
    if (events.has('attempt')) {
      events.emit('attempt', {
        endpoint: lease.id,
        attempt: 1,
        outcome: full,
        method: req.method ?? 'GET',
        path: call.path,
      });
    }
  };

  let url: URL;
  try {
    url = new URL(lease.origin);
  } catch (error) {
    complete({ failure: 'other' });
    writeRawProblem(socket, 502, 'The upstream could not be reached.');
    report(502, new UpstreamFailureError('other', lease.id, error), lease, false);
    return;
  }
  if (!settings.preserveHost) headers.push('host', url.host);
  headers.push('connection', 'Upgrade', 'upgrade', upgrade);
  const secure = url.protocol === 'https:';
  const upstream = (secure ? httpsRequest : httpRequest)({
    ...(secure ? settings.tls : undefined),
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    method: req.method,
    path: call.path,
    headers,
    agent: false,
    // Until the answer's headers: connecting and waiting both count (cleared once upgraded).
    timeout: Math.max(settings.connectTimeoutMs, settings.headersTimeoutMs) || undefined,
  });
  let answered = false;

  function onClientGone(): void {
    if (answered) return;
    answered = true;
    upstream.destroy();
    complete({ failure: 'aborted' });
    report(499, new UpstreamFailureError('aborted', endpoint, new Error('The client went away')), lease, true);
  }
  socket.once('close', onClientGone);

  upstream.on('timeout', () => {
    upstream.destroy(Object.assign(new Error('upstream upgrade timed out'), { code: 'ETIMEDOUT' }));
  });
  upstream.on('error', (error) => {
    if (answered) return;
    answered = true;
    socket.off('close', onClientGone);
    const failure: UpstreamFailure = classifyFailure(error);
    complete({ failure });
    const status = failureStatus(failure);
    writeRawProblem(
      socket,
      status,
      status === 504 ? 'The upstream did not answer in time.' : 'The upstream could not be reached.',
    );
    report(status, new UpstreamFailureError(failure, lease.id, error), lease, false);
  });
  upstream.on('response', (res) => {
    if (answered) {
      res.destroy();
      return;
    }
    answered = true;
    socket.off('close', onClientGone);
    const status = res.statusCode ?? 502;
    socket.write(
      `HTTP/1.1 ${String(status)} ${STATUS_CODES[status] ?? ''}\r\n${relayedHeaders(res, false)}connection: close\r\n\r\n`,
    );
    res.pipe(socket);
    res.on('error', () => socket.destroy());
    socket.once('close', () => {
      res.destroy();
      complete({ status });
      report(status, undefined, lease, false);
    });
  });
  upstream.on('upgrade', (res, tunnel: Socket, upstreamHead: Buffer) => {
    tunnel.on('error', ignore);
    if (answered) {
      tunnel.destroy();
      return;
    }
    answered = true;
    socket.off('close', onClientGone);
    tunnel.setTimeout(0);
    tunnel.setNoDelay(true);
    const status = res.statusCode ?? 101;
    const accepted = res.headers.upgrade ?? upgrade;
    socket.write(
      `HTTP/1.1 ${String(status)} ${STATUS_CODES[status] ?? ''}\r\n${relayedHeaders(res, true)}connection: Upgrade\r\nupgrade: ${accepted}\r\n\r\n`,
    );
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) tunnel.write(head);
    tunnel.pipe(socket);
    socket.pipe(tunnel);
    let closed = 0;
    const onClose = (): void => {
      tunnel.destroy();
      socket.destroy();
      if (++closed === 1) {
        complete({ status });
        report(status, undefined, lease, false);
      }
    };
    tunnel.once('close', onClose);
    socket.once('close', onClose);
  });
  upstream.end();
}

/** The answer's headers as `name: value\r\n` lines, less hop-by-hop ones (and `Upgrade`, re-added). */
function relayedHeaders(res: IncomingMessage, upgraded: boolean): string {
  const listed = connectionListed(res.headers.connection);
  const raw = res.rawHeaders;
  let text = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name) || listed?.has(name) === true) continue;
    // A relayed non-101 answer is delimited by the connection's close: no length to trust.
    if (!upgraded && name === 'content-length') continue;
    text += `${raw[i] as string}: ${raw[i + 1] as string}\r\n`;
  }
  return text;
}

/** Answers on a bare socket (no `ServerResponse` exists for an upgrade) and closes it. */
function writeRawProblem(socket: Duplex, status: number, detail: string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(problemDetails(status, detail));
  socket.end(
    `HTTP/1.1 ${String(status)} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: ${PROBLEM_JSON}\r\n` +
      `content-length: ${String(Buffer.byteLength(body))}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function ignore(): void {
  // Socket errors end in 'close', which is handled; the error itself has nowhere to go.
}
