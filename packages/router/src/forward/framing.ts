/** What {@link framingProblem} reads of a request: Node's `IncomingMessage` has all three. */
export interface FramedRequest {
  /** Header names and values as received, alternating. */
  readonly rawHeaders: readonly string[];
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
}

// RFC 9110 token characters. A name with a space ("Transfer-Encoding :") is the classic way to
// make two parsers disagree on whether a header is there at all.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DIGITS = /^\d{1,16}$/;

/**
 * Why a request's framing is ambiguous, or `undefined` when it is not. The rules a gateway must
 * hold to (RFC 9112 §6.1–6.3, and what request smuggling exploits when a front end and a back end
 * read one message differently): at most one `Content-Length`, made of digits; at most one
 * `Transfer-Encoding`, exactly `chunked`, and only on HTTP/1.1; never both; every header name a
 * token. Node's default (strict) parser already refuses most of these before a handler runs; this
 * check holds when it is lenient too (`insecureHTTPParser`), and refuses the `gzip, chunked` lists
 * it lets through, which no upstream could be trusted to read alike.
 */
export function framingProblem(req: FramedRequest): string | undefined {
  const raw = req.rawHeaders;
  let length: string | undefined;
  let encoding: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (length !== undefined) return 'several Content-Length headers';
      length = raw[i + 1];
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      if (encoding !== undefined) return 'several Transfer-Encoding headers';
      encoding = raw[i + 1];
    } else if (!TOKEN.test(name)) {
      return 'a header name that is not a token';
    }
  }
  if (encoding !== undefined) {
    if (length !== undefined) return 'both Content-Length and Transfer-Encoding';
    if (encoding.trim().toLowerCase() !== 'chunked') return 'a transfer coding other than chunked';
    if (req.httpVersionMajor !== 1 || req.httpVersionMinor < 1) return 'Transfer-Encoding before HTTP/1.1';
  } else if (length !== undefined && !DIGITS.test(length.trim())) {
    return 'a Content-Length that is not a number';
  }
  return undefined;
}
