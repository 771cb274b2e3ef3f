const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
// Strict dotted quad: no leading zeros (which some parsers read as octal), no shorthand forms.
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** The four octets of a dotted-quad IPv4 address, or `undefined` when `text` is not one. */
export function parseIpv4(text: string): number[] | undefined {
  if (!DOTTED_QUAD.test(text)) return undefined;
  return text.split('.').map(Number);
}
