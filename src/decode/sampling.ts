import type { Mt19937 } from './mt19937.ts';

/** How the next token is chosen. `greedy` never draws from the generator. */
export type Sampling =
  | { kind: 'greedy' }
  | {
      kind: 'sample';
      /** > 0. (A temperature of 0 is expressed as `greedy` by the suite expander.) */
      temperature: number;
      /** 0 disables top-k. */
      topK: number;
      /** 1 disables top-p (nucleus). */
      topP: number;
      seed: number;
    };

/**
 * Index of the largest value in `row`; ties go to the lowest index. NaN never wins.
 */
export function argmax(row: Float32Array): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** Candidate order shared by every filter: higher value first, then lower id. */
function byValueThenId(values: Float64Array): (a: number, b: number) => number {
  return (a, b) => values[b]! - values[a]! || a - b;
}

/**
 * Draws one token from `row` (one position's logits) with temperature, top-k and top-p, consuming
 * exactly one `rng.random()`. The algorithm, replayable in Python with `random.Random(seed)`:
 * 1. scaled[i] = logit[i] / temperature in float64; non-finite logits are dropped;
 * 2. candidates are ordered by scaled value descending, ties by lower id;
 * 3. top-k keeps the first k (k = 0 keeps all);
 * 4. weights w[i] = exp(scaled[i] - max), summed in candidate order into `total`;
 * 5. top-p keeps the shortest prefix whose running sum / total reaches topP (at least one);
 * 6. u = random() * (sum of kept weights, in order); the token is the first whose running sum exceeds u.
 */
export function sampleToken(row: Float32Array, sampling: Extract<Sampling, { kind: 'sample' }>, rng: Mt19937): number {
  const n = row.length;
  const scaled = new Float64Array(n);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = row[i]!;
    if (Number.isFinite(v)) {
      scaled[i] = v / sampling.temperature;
      ids.push(i);
    }
  }
  // Draw even when nothing is finite, so the generator stays in step with a run that could sample.
  const u01 = rng.random();
  if (ids.length === 0) return argmax(row);
  ids.sort(byValueThenId(scaled));
  const kept = sampling.topK > 0 ? ids.slice(0, sampling.topK) : ids;

  const max = scaled[kept[0]!]!;
  const weights = new Float64Array(kept.length);
  let total = 0;
  for (let r = 0; r < kept.length; r++) {
    const w = Math.exp(scaled[kept[r]!]! - max);
    weights[r] = w;
    total += w;
  }

  let count = kept.length;
  if (sampling.topP < 1) {
    let running = 0;
    for (let r = 0; r < kept.length; r++) {
      running += weights[r]!;
      if (running / total >= sampling.topP) {
        count = r + 1;
        break;
      }
    }
  }

  let keptTotal = 0;
  for (let r = 0; r < count; r++) keptTotal += weights[r]!;
  const u = u01 * keptTotal;
  let running = 0;
  for (let r = 0; r < count; r++) {
    running += weights[r]!;
    if (u < running) return kept[r]!;
  }
  return kept[count - 1]!;
}
