import type { CompletedRecord } from '../results/record.ts';
import { finite } from './stats.ts';
import type { BitwiseShare, Candidate, LogitDrift, SequenceBasis, StepView } from './types.ts';

type Steps = CompletedRecord['steps'];

/** Which recorded values two records share: logits if both have them, else log-probabilities. */
export function sharedValues(a: Steps, b: Steps): LogitDrift['values'] {
  const has = (rows: readonly (readonly (number | null)[])[]) => rows.some((r) => r.length > 0);
  if (has(a.topLogits) && has(b.topLogits)) return 'logits';
  if (has(a.topLogprobs) && has(b.topLogprobs)) return 'logprobs';
  return null;
}

/** The top candidates recorded at `step`, best first. */
export function candidatesAt(steps: Steps, step: number): Candidate[] {
  const ids = steps.topIds[step] ?? [];
  const texts = steps.topTokens?.[step] ?? [];
  const logits = steps.topLogits[step] ?? [];
  const logprobs = steps.topLogprobs[step] ?? [];
  const n = Math.max(ids.length, texts.length, logits.length, logprobs.length);
  const out: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      id: ids[i] ?? null,
      text: texts[i] ?? null,
      logit: finite(logits[i]),
      logprob: finite(logprobs[i]),
    });
  }
  return out;
}

/** What `record` shows at `step`: its token (null past its end), margin and candidates. */
export function stepView(record: CompletedRecord, step: number): StepView {
  const ended = step >= Math.max(record.tokens.length, record.tokenTexts.length, record.steps.token.length);
  return {
    token: ended ? null : { id: record.tokens[step] ?? record.steps.token[step] ?? null, text: record.tokenTexts[step] ?? null },
    margin: finite(record.steps.margin[step]),
    top: candidatesAt(record.steps, step),
  };
}

/**
 * Largest absolute difference of the values recorded for the candidates both steps list, matched
 * by token id (or by token text on the `texts` basis); null when they share none.
 */
export function stepMaxDiff(
  a: Steps,
  b: Steps,
  step: number,
  basis: SequenceBasis,
  values: NonNullable<LogitDrift['values']>,
  acc?: { sum: number; n: number },
): number | null {
  const keysA = basis === 'ids' ? a.topIds[step] : a.topTokens?.[step];
  const keysB = basis === 'ids' ? b.topIds[step] : b.topTokens?.[step];
  const valsA = values === 'logits' ? a.topLogits[step] : a.topLogprobs[step];
  const valsB = values === 'logits' ? b.topLogits[step] : b.topLogprobs[step];
  if (!keysA || !keysB || !valsA || !valsB) return null;
  let max: number | null = null;
  for (let i = 0; i < keysA.length; i++) {
    const va = valsA[i];
    if (typeof va !== 'number') continue;
    // Usually both rank the candidates alike: try the same position before searching.
    const j = keysB[i] === keysA[i] ? i : (keysB as readonly (number | string)[]).indexOf(keysA[i]!);
    const vb = j >= 0 ? valsB[j] : undefined;
    if (typeof vb !== 'number') continue;
    const d = Math.abs(va - vb);
    if (!Number.isFinite(d)) continue;
    if (max === null || d > max) max = d;
    if (acc) {
      acc.sum += d;
      acc.n++;
    }
  }
  return max;
}

/** Per-step and pooled comparison of two records' steps `[0, end)`. */
export interface StepComparison {
  drift: LogitDrift;
  bitwise: BitwiseShare;
  /** Present when asked for: the max difference at each step. */
  perStep?: (number | null)[];
}

/** Compares the recorded top values and row hashes of steps `[0, end)`. */
export function compareSteps(a: Steps, b: Steps, end: number, basis: SequenceBasis, perStep = false): StepComparison {
  const values = sharedValues(a, b);
  const acc = { sum: 0, n: 0 };
  let max: number | null = null;
  let stepsWithShared = 0;
  let equal = 0;
  let compared = 0;
  const series: (number | null)[] | undefined = perStep ? [] : undefined;
  for (let i = 0; i < end; i++) {
    const d = values ? stepMaxDiff(a, b, i, basis, values, acc) : null;
    if (d !== null) {
      stepsWithShared++;
      if (max === null || d > max) max = d;
    }
    series?.push(d);
    const ha = a.hash[i];
    const hb = b.hash[i];
    if (ha && hb) {
      compared++;
      if (ha === hb) equal++;
    }
  }
  return {
    drift: { values: acc.n ? values : null, max, mean: acc.n ? acc.sum / acc.n : null, steps: stepsWithShared, candidates: acc.n },
    bitwise: { equal, compared, share: compared ? equal / compared : null },
    ...(series ? { perStep: series } : {}),
  };
}
