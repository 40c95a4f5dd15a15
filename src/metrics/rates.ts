import { type Rate, rateOf } from './interval.ts';
import type { MetricsSummary } from './types.ts';

/** Which rate a {@link RateRow} is. */
export type RateKind =
  | 'exact-match'
  | 'tarr'
  | 'unique-share'
  | 'cross-exact-match'
  | 'repeat-pair-exact-match'
  | 'teacher-top1'
  | 'same-top1'
  | 'across-runners-tarr';

/** One rate of a summary with its 95% Wilson interval: one row of the report's and the gate's statistics. */
export interface RateRow {
  kind: RateKind;
  /** A runner key, a pair label (`a → b`) or `all runners`. */
  subject: string;
  /** What the rate counts, in words: "repetitions equal to their group's most common completion". */
  of: string;
  /** The parts `subject` and `of` are made of, for a page that words them in another language. */
  parts: { runner?: string; reference?: string; n?: number | null };
  rate: Rate;
}

/** Every rate the summary holds, each as k of n with its interval. */
export function rateTable(m: MetricsSummary): RateRow[] {
  const rows: RateRow[] = [];
  for (const r of m.runners) {
    if (r.exactMatch.n === 0) continue;
    const parts = { runner: r.runner };
    rows.push({ kind: 'exact-match', subject: r.runner, of: "repetitions equal to their group's most common completion", parts, rate: r.exactMatch });
    if (r.tarr.groups > 0) {
      rows.push({
        kind: 'tarr',
        subject: r.runner,
        of: `groups whose ${r.tarr.n ?? 'N'}+ repetitions are all identical (TARr@${r.tarr.n ?? 'N'})`,
        parts: { ...parts, n: r.tarr.n },
        rate: rateOf(r.tarr.agreeing, r.tarr.groups),
      });
    }
    // With one completion per group the share is 1 by construction: not a measurement.
    if (r.tarr.groups > 0)
      rows.push({ kind: 'unique-share', subject: r.runner, of: 'unique completions per completed repetition', parts, rate: r.uniqueShare });
  }
  for (const p of m.pairs) {
    const cross = p.relation === 'cross-runner';
    rows.push({
      kind: cross ? 'cross-exact-match' : 'repeat-pair-exact-match',
      subject: cross ? `${p.a} → ${p.b}` : `${p.b} (rep k vs rep 0)`,
      of: cross ? 'completions identical to the reference' : 'repetitions identical to the first',
      parts: cross ? { reference: p.a, runner: p.b } : { runner: p.b },
      rate: p.exactMatch,
    });
  }
  for (const t of m.teacherForced.byPair) {
    const subject = `${t.reference} → ${t.runner} (teacher-forced)`;
    const parts = { reference: t.reference, runner: t.runner };
    rows.push({ kind: 'teacher-top1', subject, of: "steps whose own choice is the reference's token", parts, rate: t.top1 });
    const s = t.divergence.sameTop;
    if (s.n > 0) rows.push({ kind: 'same-top1', subject, of: 'steps where both rank the same token first', parts, rate: rateOf(s.k, s.n) });
  }
  if (m.acrossRunners.groups > 0) {
    rows.push({
      kind: 'across-runners-tarr',
      subject: 'all runners',
      of: 'groups in which every record of every runner is identical',
      parts: {},
      rate: rateOf(m.acrossRunners.agreeing, m.acrossRunners.groups),
    });
  }
  return rows;
}
