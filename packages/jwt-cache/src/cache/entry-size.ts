/**
 * An estimate, in bytes, of the memory a decoded JSON value takes in V8 (64-bit, no pointer
 * compression, as Node ships): a header per object, array and string, a pointer-sized slot per
 * member, 16 bytes per number held by an object (a heap number at worst; array elements are
 * unboxed), strings at one byte per character (two when any is outside Latin-1), rounded to 8.
 * Against the heap (2,000 cached payloads of each shape, Node 20) it was within a few percent for
 * long strings, arrays of numbers, arrays of short strings and non-Latin-1 text, and 25% above
 * for objects of hundreds of members, whereas the token's length alone is off by 3x: a 4.2 KB
 * token of small numbers decodes into 12 KB of heap.
 */
export function jsonBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return 16;
    case 'object':
      break;
    default:
      return 8;
  }
  if (value === null) return 8;
  if (Array.isArray(value)) {
    // Numbers, booleans and null sit in their slot (small integers and unboxed doubles).
    let bytes = 32 + 8 * value.length;
    for (const item of value as readonly unknown[]) {
      if (typeof item === 'object' || typeof item === 'string') bytes += jsonBytes(item);
    }
    return bytes;
  }
  let bytes = 56;
  const record = value as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(record)) bytes += 16 + stringBytes(key) + jsonBytes(record[key]);
  return bytes;
}

// Any character above U+00FF makes V8 store the whole string with two bytes per character.
const TWO_BYTE = /[\u0100-\uffff]/;

/** A string's bytes: a 16-byte header, the characters, rounded up to 8. */
export function stringBytes(text: string): number {
  const chars = TWO_BYTE.test(text) ? 2 * text.length : text.length;
  return 16 + Math.ceil(chars / 8) * 8;
}
