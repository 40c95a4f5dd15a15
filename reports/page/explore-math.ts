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

/** One step's recorded candidates, best first, and the log-sum-exp of the whole row. */
export interface RecordedStep {
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
  /** True when the recorded candidates determine the result exactly (see {@link explore}). */
  exact: boolean;
  /** Index of the candidate the draw picks; -1 when it lands in the unrecorded rest; null without a draw. */
  pick: number | null;
}

/**
 * Replays the sampler on recorded candidates with a draw `u` in [0, 1) (null: mark none). Exact
 * when top-k keeps no more than the recorded candidates (every weight the sampler sums is then
 * recorded), or at temperature 1 when top-p stops within them (the row's total is exp(lse)). Else
 * the unrecorded rest is one lump of weight (its mass at temperature 1)^(1/T), an upper bound below
 * temperature 1 and a lower bound above it, and the result is marked approximate.
 */
export function explore(step: RecordedStep, s: ExploreSettings, u: number | null): Explored {
  const n = step.logits.length;
  const top = step.logits[0]!;
  // The very expressions of sampleToken: scaled = logit / T, weight = exp(scaled - max).
  const max = top / s.temperature;
  const weights = step.logits.map((l) => Math.exp(l / s.temperature - max));
  // The unrecorded rest, relative to the best candidate: exact at T = 1, one lump elsewhere.
  const rest1 = Math.max(0, Math.exp(step.lse - top) - step.logits.reduce((a, l) => a + Math.exp(l - top), 0));
  const tailWeight = s.temperature === 1 ? rest1 : Math.pow(rest1, 1 / s.temperature);
  const recordedOnly = s.topK > 0 && s.topK <= n;

  const k = recordedOnly ? s.topK : n;
  let total = 0;
  for (let r = 0; r < k; r++) total += weights[r]!;
  if (!recordedOnly) total += tailWeight;
  let count = k;
  let tailKept = !recordedOnly && tailWeight > 0;
  let cutInside = false;
  if (s.topP < 1) {
    let running = 0;
    for (let r = 0; r < k; r++) {
      running += weights[r]!;
      if (running / total >= s.topP) {
        count = r + 1;
        cutInside = true;
        tailKept = false;
        break;
      }
    }
  }
  let keptTotal = 0;
  for (let r = 0; r < count; r++) keptTotal += weights[r]!;
  if (tailKept) keptTotal += tailWeight;

  const exact = recordedOnly || (s.temperature === 1 && (cutInside || rest1 === 0));
  let pick: number | null = null;
  if (u !== null) {
    const target = u * keptTotal;
    let running = 0;
    pick = tailKept ? -1 : count - 1;
    for (let r = 0; r < count; r++) {
      running += weights[r]!;
      if (target < running) {
        pick = r;
        break;
      }
    }
  }
  // Shares of what top-k leaves to the sampler (the rest only when top-k does not exclude it).
  return {
    probs: weights.map((w) => w / total),
    tail: recordedOnly ? 0 : tailWeight / total,
    kept: weights.map((_, r) => r < count),
    tailKept,
    keptProbs: weights.map((w, r) => (r < count ? w / keptTotal : 0)),
    exact,
    pick,
  };
}
