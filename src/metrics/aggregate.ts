import { DivergenceAccumulator } from './divergence-stats.ts';
import { rateOf } from './interval.ts';
import { mean, median, ratio } from './stats.ts';
import type { PairAggregate, PairComparison, TeacherAggregate, TeacherForcedComparison } from './types.ts';

/** Pools pair comparisons per (a, b, relation). */
export function aggregatePairs(pairs: readonly PairComparison[]): PairAggregate[] {
  const by = new Map<string, { agg: PairAggregate; divs: number[]; maxes: number[]; means: number[] }>();
  for (const p of pairs) {
    const k = `${p.relation}\u0000${p.a.runner}\u0000${p.b.runner}`;
    let e = by.get(k);
    if (!e) {
      e = {
        agg: {
          a: p.a.runner,
          b: p.b.runner,
          relation: p.relation,
          pairs: 0,
          identical: 0,
          exactMatchRate: null,
          exactMatch: rateOf(0, 0),
          firstDivergence: { count: 0, min: null, median: null, max: null },
          nearTies: 0,
          logitMaxDiff: null,
          logitMeanDiff: null,
          bitwise: { equal: 0, compared: 0, share: null },
        },
        divs: [],
        maxes: [],
        means: [],
      };
      by.set(k, e);
    }
    const a = e.agg;
    a.pairs++;
    if (p.outcome === 'identical') a.identical++;
    else {
      e.divs.push(p.firstDivergence);
      if (p.divergence.nearTie) a.nearTies++;
    }
    if (p.logits.max !== null) e.maxes.push(p.logits.max);
    if (p.logits.mean !== null) e.means.push(p.logits.mean);
    a.bitwise.equal += p.bitwise.equal;
    a.bitwise.compared += p.bitwise.compared;
  }
  return [...by.values()].map(({ agg, divs, maxes, means }) => ({
    ...agg,
    exactMatchRate: ratio(agg.identical, agg.pairs),
    exactMatch: rateOf(agg.identical, agg.pairs),
    firstDivergence: {
      count: divs.length,
      min: divs.length ? Math.min(...divs) : null,
      median: median(divs),
      max: divs.length ? Math.max(...divs) : null,
    },
    logitMaxDiff: maxes.length ? Math.max(...maxes) : null,
    logitMeanDiff: mean(means),
    bitwise: { ...agg.bitwise, share: ratio(agg.bitwise.equal, agg.bitwise.compared) },
  }));
}

/** Pools teacher-forced comparisons per (reference, runner). */
export function aggregateTeacher(list: readonly TeacherForcedComparison[]): TeacherAggregate[] {
  const by = new Map<string, { agg: TeacherAggregate; agree: number; argmaxAgree: number; maxes: number[]; means: number[]; div: DivergenceAccumulator }>();
  for (const t of list) {
    const k = `${t.reference}\u0000${t.runner}`;
    let e = by.get(k);
    if (!e) {
      e = {
        agg: {
          reference: t.reference,
          runner: t.runner,
          records: 0,
          steps: 0,
          top1Agreement: null,
          top1: rateOf(0, 0),
          argmaxAgreement: null,
          argmax: rateOf(0, 0),
          maxDiff: null,
          meanDiff: null,
          bitwise: { equal: 0, compared: 0, share: null },
          divergence: new DivergenceAccumulator().summary(),
        },
        agree: 0,
        argmaxAgree: 0,
        maxes: [],
        means: [],
        div: new DivergenceAccumulator(),
      };
      by.set(k, e);
    }
    e.agg.records++;
    e.agg.steps += t.steps;
    e.agree += t.agreeSteps;
    e.argmaxAgree += t.argmaxAgreeSteps;
    if (t.maxDiff !== null) e.maxes.push(t.maxDiff);
    if (t.meanDiff !== null) e.means.push(t.meanDiff);
    e.agg.bitwise.equal += t.bitwise.equal;
    e.agg.bitwise.compared += t.bitwise.compared;
    const d = t.divergence;
    for (let i = 0; i < d.kl.length; i++) e.div.add({ kl: d.kl[i] ?? null, dp: d.dp[i] ?? null, sameTop: d.sameTop[i] ?? null }, d.basis);
  }
  return [...by.values()].map(({ agg, agree, argmaxAgree, maxes, means, div }) => ({
    ...agg,
    top1Agreement: ratio(agree, agg.steps),
    top1: rateOf(agree, agg.steps),
    argmaxAgreement: ratio(argmaxAgree, agg.steps),
    argmax: rateOf(argmaxAgree, agg.steps),
    divergence: div.summary(),
    maxDiff: maxes.length ? Math.max(...maxes) : null,
    meanDiff: mean(means),
    bitwise: { ...agg.bitwise, share: ratio(agg.bitwise.equal, agg.bitwise.compared) },
  }));
}
