import { type CapturedRows, decodeRow } from '../decode/capture.ts';
import type { CompletedRecord } from '../results/record.ts';
import { fullRowKl, logprobOf, type TopK, topKStep } from './divergence.ts';
import type { TeacherDivergence } from './types.ts';

/**
 * Where captured full distributions come from. The metrics core does no I/O: the results reader
 * implements this over the sidecar files (`src/results/capture.ts`).
 */
export interface CaptureSource {
  /**
   * The captured rows of `record`, or undefined when it has none. Throws when a capture exists but
   * does not match the record (step count, logits hashes).
   */
  rows(record: CompletedRecord): CapturedRows | undefined;
}

function topK(r: CompletedRecord, i: number): TopK {
  return { ids: r.steps.topIds[i] ?? [], logprobs: r.steps.topLogprobs[i] ?? [] };
}

/** Log-probability of `token` in a decoded row, renormalised over the row. */
function rowLogprob(row: Float64Array, token: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - max);
  return row[token]! - (max + Math.log(s));
}

/**
 * Step-by-step divergence of a teacher-forced record `tf` (distribution Q) from the reference record
 * it was fed (distribution P, token t = the reference's token), over `steps` steps. With captures
 * of both records KL is exact up to the capture's quantisation; without, it is the top-k lower
 * bound. Δp uses the recorded float64 log-probabilities when both top-k lists name t (exact), else
 * the capture; same top compares the first recorded ids.
 */
export function teacherDivergence(tf: CompletedRecord, ref: CompletedRecord, steps: number, capture?: CaptureSource): TeacherDivergence {
  const p = capture?.rows(ref);
  const q = capture?.rows(tf);
  const full = p !== undefined && q !== undefined && p.vocab === q.vocab && p.vocab > 0 && p.steps >= steps && q.steps >= steps;
  const out: TeacherDivergence = { basis: full ? 'full' : 'top-k', kl: [], dp: [], sameTop: [] };
  const pRow = full ? new Float64Array(p.vocab) : null;
  const qRow = full ? new Float64Array(q.vocab) : null;
  for (let i = 0; i < steps; i++) {
    const token = ref.tokens[i]!;
    const pk = topK(ref, i);
    const qk = topK(tf, i);
    const approx = topKStep(pk, qk, token);
    if (!full) {
      out.kl.push(approx.kl);
      out.dp.push(approx.dp);
      out.sameTop.push(approx.sameTop);
      continue;
    }
    const pFloor = decodeRow(p, i, pRow!);
    decodeRow(q, i, qRow!);
    out.kl.push(fullRowKl(pRow!, qRow!, pFloor));
    let dp = approx.dp;
    if (dp === null && token < p.vocab) {
      const lp = logprobOf(pk, token) ?? (pRow![token]! > pFloor ? rowLogprob(pRow!, token) : -Infinity);
      const lq = logprobOf(qk, token) ?? rowLogprob(qRow!, token);
      // A reference token below the capture's floor has p < e^-24 · p_top: zero at this resolution.
      dp = Math.exp(lq) - (lp === -Infinity ? 0 : Math.exp(lp));
    }
    out.dp.push(dp);
    out.sameTop.push(approx.sameTop);
  }
  return out;
}
