import { type Rate, rateOf } from './interval.ts';
import type { MetricsSummary } from './types.ts';

/**
 * One request repeated: "N completions of one request, U unique, first split at token T" (the
 * headline of a repetition study, as in Thinking Machines' 2025 "Defeating Nondeterminism in LLM
 * Inference": 1,000 completions at temperature 0, 80 unique).
 */
export interface RepetitionStudy {
  group: string;
  promptId: string;
  settingId: string;
  runner: string;
  /** Completed repetitions. */
  n: number;
  /** Distinct completions among them. */
  unique: number;
  /** unique / n with its 95% Wilson interval. */
  uniqueShare: Rate;
  /**
   * Earliest token index at which any repetition differs from the first (so also the earliest at
   * which any two differ: two that differ at t cannot both equal the first there); null when all are identical.
   */
  firstSplit: number | null;
  /** Repetitions that differ from the first. */
  split: number;
  /** How many repetitions first differ from the first at each token index, ascending. */
  splitPositions: { step: number; count: number }[];
}

/**
 * Every (group, runner) with at least two completed repetitions, most repetitions first (then most
 * unique). The first one is the study's headline.
 */
export function repetitionStudies(m: MetricsSummary): RepetitionStudy[] {
  const out: RepetitionStudy[] = [];
  for (const g of m.groups) {
    for (const r of g.runners) {
      if (r.completed < 2) continue;
      const counts = new Map<number, number>();
      let split = 0;
      for (const p of g.pairs) {
        if (p.relation !== 'repetition' || p.b.runner !== r.runner || p.outcome !== 'diverged') continue;
        split++;
        counts.set(p.firstDivergence, (counts.get(p.firstDivergence) ?? 0) + 1);
      }
      const splitPositions = [...counts].map(([step, count]) => ({ step, count })).sort((a, b) => a.step - b.step);
      out.push({
        group: g.key,
        promptId: g.promptId,
        settingId: g.settingId,
        runner: r.runner,
        n: r.completed,
        unique: r.uniqueCompletions,
        uniqueShare: rateOf(r.uniqueCompletions, r.completed),
        firstSplit: splitPositions[0]?.step ?? null,
        split,
        splitPositions,
      });
    }
  }
  return out.sort((a, b) => b.n - a.n || b.unique - a.unique || a.group.localeCompare(b.group) || a.runner.localeCompare(b.runner));
}
