import type { CompletedRecord } from '../results/record.ts';
import { firstDivergence, sequenceOf } from './sequence.ts';
import { compareSteps, sharedValues, stepMaxDiff, stepView } from './steps.ts';
import type { PairComparison, RecordRef, SequenceBasis } from './types.ts';

/** Margins (best minus second-best logit) at or below this make a divergence a near tie. */
export const DEFAULT_NEAR_TIE = 0.05;

/** How a pair is labelled and judged. */
export interface PairOptions {
  group: string;
  relation: PairComparison['relation'];
  basis: SequenceBasis;
  /** Runner keys of `a` and `b`. */
  runners: [string, string];
  nearTie?: number;
}

function ref(r: CompletedRecord, runner: string): RecordRef {
  return { recordId: r.id, runner, repetition: r.repetition, profileId: r.profile.id };
}

/**
 * Compares two free-running records: first divergence d, drift of the top values and row-hash
 * equality over the steps before the split (0..d-1, or the whole length when identical), and both
 * records' view of the split step itself, which also saw identical inputs (its drift and hash too).
 */
export function comparePair(a: CompletedRecord, b: CompletedRecord, o: PairOptions): PairComparison {
  const sa = sequenceOf(a, o.basis);
  const sb = sequenceOf(b, o.basis);
  const d = firstDivergence(sa, sb);
  const end = d === null ? Math.min(sa.length, sb.length) : d;
  const { drift, bitwise } = compareSteps(a.steps, b.steps, end, o.basis);
  const base = {
    group: o.group,
    relation: o.relation,
    a: ref(a, o.runners[0]),
    b: ref(b, o.runners[1]),
    basis: o.basis,
    lengthA: sa.length,
    lengthB: sb.length,
    logits: drift,
    bitwise,
  };
  if (d === null) return { ...base, outcome: 'identical' };
  const va = stepView(a, d);
  const vb = stepView(b, d);
  const margins = [va.margin, vb.margin].filter((m): m is number => m !== null);
  const minMargin = margins.length ? Math.min(...margins) : null;
  const values = sharedValues(a.steps, b.steps);
  const ha = a.steps.hash[d];
  const hb = b.steps.hash[d];
  return {
    ...base,
    outcome: 'diverged',
    firstDivergence: d,
    divergence: {
      step: d,
      a: va,
      b: vb,
      minMargin,
      nearTie: minMargin !== null && minMargin <= (o.nearTie ?? DEFAULT_NEAR_TIE),
      maxDiff: values ? stepMaxDiff(a.steps, b.steps, d, o.basis, values) : null,
      bitwiseEqual: ha && hb ? ha === hb : null,
    },
  };
}
