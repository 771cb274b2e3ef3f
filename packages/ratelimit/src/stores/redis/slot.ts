/**
 * The Redis Cluster slot of a hash tag (a key's text between its first `{` and the `}` after it):
 * CRC16-XMODEM of its UTF-8 bytes, mod 16384, as the cluster specification defines it. Written here
 * rather than taken from `cluster-key-slot` (what ioredis uses): that package is CommonJS with an
 * ambient `export =` declaration this strict ESM build cannot import without a shim, and ours need
 * only the tag, which is never empty and never holds a brace. A test holds it to Redis's own
 * `CLUSTER KEYSLOT`.
 */
const TABLE = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[byte] = crc;
}

/**
 * The slot of every key whose hash tag is `tag`.
 *
 * @example
 * ```ts
 * tagSlot('user:42'); // the slot of 'rl:{user:42}:daily:fw:k:user:42'
 * ```
 */
export function tagSlot(tag: string): number {
  let crc = 0;
  for (let i = 0; i < tag.length; i++) {
    const unit = tag.charCodeAt(i);
    if (unit < 0x80) {
      crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ unit) & 0xff] as number);
      continue;
    }
    // Not ASCII: the UTF-8 bytes of the rest (ids are well-formed UTF-16 in Redis keys).
    for (const byte of Buffer.from(tag.slice(i), 'utf8')) {
      crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number);
    }
    break;
  }
  return crc & 0x3fff;
}
