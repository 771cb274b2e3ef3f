import { request, type ClientRequest, type OutgoingHttpHeaders } from 'node:http';

/** A response read with `node:http`, which (unlike fetch) can send a header line twice. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** `GET url` with exactly these header lines (an array value sends one line per element). */
export function rawGet(url: string, headers: OutgoingHttpHeaders): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts `GET url` and leaves the request open; the caller destroys it to play a client that leaves. */
export function openRequest(url: string): ClientRequest {
  const req = request(url, { agent: false });
  // Destroying our own request makes it emit ECONNRESET-like errors; that is the point.
  req.on('error', () => undefined);
  req.end();
  return req;
}
