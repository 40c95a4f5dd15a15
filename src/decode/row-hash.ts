/**
 * A 64-bit digest of the row's bit patterns: two 32-bit multiplicative lanes (FNV-1a style over
 * the even words, murmur's constant over the odd ones), each finished with murmur3's avalanche.
 * Not cryptographic: it shows equality, it does not resist attack. The TypeScript reference of
 * `hashFloat32` (src/decode/logits.ts), which the kernel (kernels/step.ts) is tested against; the
 * summary computes the same lanes on the way.
 */
export function hashFloat32Reference(row: Float32Array): string {
  const words = new Uint32Array(row.buffer, row.byteOffset, row.length);
  const n = words.length;
  let h1 = HASH_SEED_EVEN;
  let h2 = HASH_SEED_ODD ^ n;
  // Two words per turn: no parity test in the loop.
  let i = 0;
  for (; i + 1 < n; i += 2) {
    h1 = Math.imul(h1 ^ words[i]!, HASH_MUL_EVEN);
    h2 = Math.imul(h2 ^ words[i + 1]!, HASH_MUL_ODD);
  }
  if (i < n) h1 = Math.imul(h1 ^ words[i]!, HASH_MUL_EVEN);
  return finishHash(h1, h2);
}

/** The lanes' seeds (the odd lane's is xored with the row's length) and multipliers. */
export const HASH_SEED_EVEN = 0x811c9dc5;
export const HASH_SEED_ODD = 0x9747b28c;
export const HASH_MUL_EVEN = 0x01000193;
export const HASH_MUL_ODD = 0x5bd1e995;

/** Final avalanche of both lanes (murmur3's fmix32), so nearby inputs give unrelated digests; 16 hex digits. */
export function finishHash(h1: number, h2: number): string {
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 ^= h2 >>> 16;
  h2 = Math.imul(h2, 0x85ebca6b);
  h2 ^= h2 >>> 13;
  h2 = Math.imul(h2, 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}
