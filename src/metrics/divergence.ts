/**
 * Per-step distribution divergence of a teacher-forced step, as llama.cpp's `--kl-divergence`
 * defines it (tools/perplexity/perplexity.cpp): KL(P‖Q) with P the reference's distribution and Q
 * the other runner's, Δp = q(t) − p(t) for the reference token t, and whether both put the same
 * token first. Both distributions saw the same input, so they are directly comparable.
 */

/** What one step shows. Fields that could not be computed are null. */
export interface StepDivergence {
  /** KL(P‖Q) in nats: exact from full rows, a lower bound from top-k (see {@link topKStep}). */
  kl: number | null;
  /** q(t) − p(t) for the reference token t. */
  dp: number | null;
  /** Both rank the same token first. */
  sameTop: boolean | null;
}

/**
 * KL(P‖Q) = Σ p_i (log p_i − log q_i) over full rows of log-probabilities. Reference entries at or
 * below `pFloor` are dropped (a quantised capture cannot resolve them); both rows are renormalised
 * over what is kept, so that a rounding offset common to all codes cancels. Float64, index order.
 */
export function fullRowKl(p: Float64Array, q: Float64Array, pFloor = -Infinity): number {
  const n = p.length;
  let pMax = -Infinity;
  let qMax = -Infinity;
  for (let i = 0; i < n; i++) {
    if (p[i]! > pFloor && p[i]! > pMax) pMax = p[i]!;
    if (q[i]! > qMax) qMax = q[i]!;
  }
  let ps = 0;
  let qs = 0;
  for (let i = 0; i < n; i++) {
    if (p[i]! > pFloor) ps += Math.exp(p[i]! - pMax);
    qs += Math.exp(q[i]! - qMax);
  }
  const pLse = pMax + Math.log(ps);
  const qLse = qMax + Math.log(qs);
  let kl = 0;
  for (let i = 0; i < n; i++) {
    if (!(p[i]! > pFloor)) continue;
    const lp = p[i]! - pLse;
    kl += Math.exp(lp) * (lp - (q[i]! - qLse));
  }
  // Rounding can leave a KL of identical rows at -1e-17; KL is never negative.
  return Math.max(0, kl);
}

/** One record's recorded top candidates at one step: ids and float64 log-probabilities, best first. */
export interface TopK {
  ids: readonly number[];
  /** null where the record holds null (JSON has no -Infinity). */
  logprobs: readonly (number | null)[];
}

/**
 * KL from the recorded top-k alone: the tokens both lists name are kept one by one and all other
 * tokens are pooled into one "rest" bin on each side. Merging outcomes never increases KL (the
 * log-sum inequality), so this is a lower bound of the full KL, equal to it when the lists cover
 * all of the mass. Null when either list is empty.
 */
export function topKKlLowerBound(p: TopK, q: TopK): number | null {
  if (p.ids.length === 0 || q.ids.length === 0) return null;
  const qOf = new Map<number, number>();
  q.ids.forEach((id, i) => {
    const lp = q.logprobs[i];
    if (typeof lp === 'number') qOf.set(id, lp);
  });
  let kl = 0;
  let pIn = 0;
  let qIn = 0;
  for (let i = 0; i < p.ids.length; i++) {
    const lp = p.logprobs[i];
    const lq = qOf.get(p.ids[i]!);
    if (typeof lp !== 'number' || lq === undefined || !Number.isFinite(lp) || !Number.isFinite(lq)) continue;
    const pi = Math.exp(lp);
    kl += pi * (lp - lq);
    pIn += pi;
    qIn += Math.exp(lq);
  }
  const pRest = Math.max(0, 1 - pIn);
  const qRest = Math.max(0, 1 - qIn);
  if (pRest > 0) kl += qRest > 0 ? pRest * Math.log(pRest / qRest) : Infinity;
  return Math.max(0, kl);
}

/** Log-probability of `token` among a top-k list; undefined when it is not listed. */
export function logprobOf(list: TopK, token: number): number | undefined {
  const i = list.ids.indexOf(token);
  const v = i >= 0 ? list.logprobs[i] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * The step from recorded top-k lists: KL as the lower bound above, Δp where both lists name the
 * reference token (its float64 log-probabilities are exact), same top from the first ids.
 */
export function topKStep(p: TopK, q: TopK, token: number): StepDivergence {
  const lp = logprobOf(p, token);
  const lq = logprobOf(q, token);
  return {
    kl: topKKlLowerBound(p, q),
    dp: lp !== undefined && lq !== undefined ? Math.exp(lq) - Math.exp(lp) : null,
    sameTop: p.ids.length && q.ids.length ? p.ids[0] === q.ids[0] : null,
  };
}
