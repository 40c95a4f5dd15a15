import { dexp } from '../../src/decode/dexp.ts';

/**
 * The sampling explorer's arithmetic: the sampler's steps (README, "Sampling") replayed on one
 * step's recorded candidates. No DOM, so a test checks it against the sampler in Node.
 */

/** The knobs the explorer's sliders set; topK 0 and topP 1 switch a filter off, as in suites. */
export interface ExploreSettings {
  temperature: number;
  topK: number;
  topP: number;
}

/** One step's recorded candidates, best first (ties to the lower id), and the whole row's log-sum-exp. */
export interface RecordedStep {
  ids: readonly number[];
  logits: readonly number[];
  lse: number;
}

/** What the explorer draws: per candidate its share before and after the cut, and the pick. */
export interface Explored {
  /** Each recorded candidate's share of what top-k keeps (before top-p), at this temperature. */
  probs: number[];
  /** The same for the unrecorded rest of the vocabulary, as one lump (0 when top-k excludes it). */
  tail: number;
  /** Whether the candidate survives top-k and top-p. */
  kept: boolean[];
  /** Whether the unrecorded rest survives (then the pick can land in it). */
  tailKept: boolean;
  /** Probability of each candidate after the cut (what the draw samples from). */
  keptProbs: number[];
  /** The kept candidates (indices into the recorded list) in the order the draw walks them: ascending token id. */
  order: number[];
  /** True when the recorded candidates determine the result exactly (see {@link explore}). */
  exact: boolean;
  /** Index of the candidate the draw picks; -1 when it lands in the unrecorded rest; null without a draw. */
  pick: number | null;
}

/**
 * Replays the sampler (`sampleWithDraw`, schemaVersion 2) on recorded candidates with a draw `u`
 * in [0, 1) (null: mark none): weights dexp(logit / T − max / T), top-k's total summed in
 * ascending id order, top-p's prefix in candidate order, then the draw walks the kept candidates
 * in ascending id order. Exact when top-k keeps no more than the recorded candidates: every
 * weight the sampler sums is then recorded. Otherwise the unrecorded rest is one lump of weight
 * (its mass at temperature 1)^(1/T), an upper bound below temperature 1 and a lower bound above
 * it, whose place among the ids is unknown: the result is marked approximate.
 */
export function explore(step: RecordedStep, s: ExploreSettings, u: number | null): Explored {
  const n = step.logits.length;
  const top = step.logits[0]!;
  // The sampler's very expressions: scale = 1 / T, m = (largest logit) * scale.
  const scale = 1 / s.temperature;
  const m = top * scale;
  const weights = step.logits.map((l) => dexp(l * scale - m));
  const rest1 = Math.max(0, Math.exp(step.lse - top) - step.logits.reduce((a, l) => a + Math.exp(l - top), 0));
  const tailWeight = s.temperature === 1 ? rest1 : rest1 ** scale;
  const recordedOnly = s.topK > 0 && s.topK <= n;
  const k = recordedOnly ? s.topK : n;
  const byId = (rs: number[]) => [...rs].sort((a, b) => step.ids[a]! - step.ids[b]!);

  let total = 0;
  for (const r of byId([...Array(k).keys()])) total += weights[r]!;
  if (!recordedOnly) total += tailWeight;
  let count = k;
  let tailKept = !recordedOnly && tailWeight > 0;
  if (s.topP < 1) {
    let running = 0;
    for (let r = 0; r < k; r++) {
      running += weights[r]!;
      if (running / total >= s.topP) {
        count = r + 1;
        tailKept = false;
        break;
      }
    }
  }
  const order = byId([...Array(count).keys()]);
  let keptTotal = 0;
  for (const r of order) keptTotal += weights[r]!;
  if (tailKept) keptTotal += tailWeight;

  let pick: number | null = null;
  if (u !== null) {
    const target = u * keptTotal;
    let running = 0;
    let lastPositive = -1;
    pick = -2;
    for (const r of order) {
      if (!(weights[r]! > 0)) continue;
      running += weights[r]!;
      lastPositive = r;
      if (target < running) {
        pick = r;
        break;
      }
    }
    if (pick === -2) pick = tailKept ? -1 : lastPositive;
  }
  return {
    probs: weights.map((w) => w / total),
    tail: recordedOnly ? 0 : tailWeight / total,
    kept: weights.map((_, r) => r < count),
    tailKept,
    keptProbs: weights.map((w, r) => (r < count ? w / keptTotal : 0)),
    order,
    exact: recordedOnly,
    pick,
  };
}
