import { Mt19937 } from '../src/decode/mt19937.ts';

/**
 * A logits row shaped like a language model's: a long tail (about normal, mean -2, sd 2.5) and a
 * peaked head (32 tokens lifted to 6..15, so the best few hold most of the probability), with one
 * exact tie among the head. Elementary double operations and float32 rounding only, so
 * `scripts/sampler_reference.py` (`realistic_row`) builds the very same row from the same seed.
 */
export function realisticRow(vocab: number, seed: number): Float32Array {
  const rng = new Mt19937(seed);
  const row = new Float32Array(vocab);
  for (let i = 0; i < vocab; i++) {
    // Irwin-Hall: the sum of four uniforms, centred and scaled to unit variance.
    const g = (rng.random() + rng.random() + rng.random() + rng.random() - 2) * 1.7320508075688772;
    row[i] = -2 + 2.5 * g;
  }
  let prev = 0;
  for (let h = 0; h < 32; h++) {
    const id = Math.floor(rng.random() * vocab);
    const v = Math.fround(6 + 9 * rng.random());
    // The 8th head token ties the one before it exactly: the lower id must rank first.
    row[id] = h === 7 ? prev : v;
    prev = row[id]!;
  }
  return row;
}
