const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function utf8(text: string): Uint8Array | undefined {
  for (let i = 0; i < text.length; i++)
    if (text.charCodeAt(i) > 0x7f) return Buffer.from(text, 'utf8');
  return undefined;
}

/**
 * MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of `text`, unsigned. Deterministic across
 * processes, machines and languages: nothing process-local goes in.
 */
export function murmur3(text: string, seed = 0): number {
  const bytes = utf8(text);
  const length = bytes === undefined ? text.length : bytes.length;
  const at =
    bytes === undefined ? (i: number) => text.charCodeAt(i) : (i: number) => bytes[i] as number;
  let h = seed >>> 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = at(i) | (at(i + 1) << 8) | (at(i + 2) << 16) | (at(i + 3) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = length & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= at(blocks + 2) << 16;
    if (rest >= 2) k ^= at(blocks + 1) << 8;
    k ^= at(blocks);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
