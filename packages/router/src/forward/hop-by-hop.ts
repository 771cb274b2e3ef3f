/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus `Proxy-*` (meant
 * for this proxy) and `Proxy-Connection` (a non-standard `Connection`): never copied from one side
 * of the gateway to the other. Lower case.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The extra header names a message's `Connection` header lists (lower case), which are
 * hop-by-hop too; `undefined` when it lists none beyond `close`, `keep-alive` and `upgrade` (the
 * usual case, which allocates nothing).
 */
export function connectionListed(connection: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (connection === undefined) return undefined;
  const value = typeof connection === 'string' ? connection : connection.join(',');
  if (value.length <= 10 && PLAIN.has(value.toLowerCase())) return undefined;
  let listed: Set<string> | undefined;
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '' || PLAIN.has(name)) continue;
    listed ??= new Set();
    listed.add(name);
  }
  return listed;
}

// `Connection` options that name no header (or one already hop-by-hop).
const PLAIN: ReadonlySet<string> = new Set(['close', 'keep-alive', 'upgrade']);
