import type { RespondVerdict } from '../verdict.js';

/** A `respond` verdict's body, ready to write, and the content type to send with it. */
export interface ResponseBody {
  /** The bytes or text to send; `undefined` for no body. */
  readonly body: string | Uint8Array | undefined;
  /** The `content-type` to set, or `undefined` when the verdict set its own or there is no body. */
  readonly contentType: string | undefined;
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const BYTES = 'application/octet-stream';
const NO_BODY: ResponseBody = Object.freeze({ body: undefined, contentType: undefined });

/** Statuses that must not carry a body (RFC 9110); Web `Response` throws if given one. */
function forbidsBody(status: number): boolean {
  return status === 204 || status === 205 || status === 304 || (status >= 100 && status < 200);
}

/**
 * Serialises a `respond` verdict's body by the rules stated on `RespondVerdict.body`: a string as
 * text (`text/plain; charset=utf-8`), a `Uint8Array` as bytes (`application/octet-stream`, the type
 * Fastify would pick too), `undefined` as no body, anything else as JSON (`application/json`). A
 * `content-type` in the verdict's headers always wins. Statuses that forbid a body (1xx, 204, 205,
 * 304) get none.
 *
 * @throws TypeError when the body cannot be represented as JSON (a function, a symbol); a cycle or
 * a BigInt throws JSON.stringify's own TypeError. Adapters send either down the error path.
 */
export function serializeBody(verdict: RespondVerdict): ResponseBody {
  const { body } = verdict;
  if (body === undefined || forbidsBody(verdict.status)) return NO_BODY;
  const ownType = verdict.headers?.has('content-type') ?? false;
  if (typeof body === 'string') return { body, contentType: ownType ? undefined : TEXT };
  if (body instanceof Uint8Array) return { body, contentType: ownType ? undefined : BYTES };
  const json = JSON.stringify(body) as string | undefined;
  if (json === undefined) throw new TypeError(`Cannot send a respond body of type ${typeof body} as JSON`);
  return { body: json, contentType: ownType ? undefined : JSON_TYPE };
}
