import { wilson } from './interval.ts';
import type { Tarr } from './types.ts';

/** How often each completion occurs among the records, and the most common count. */
export interface CompletionCounts {
  unique: number;
  modalCount: number;
  total: number;
}

/** Counts distinct completions (given as `completionKey`s) and the size of the largest class. */
export function countCompletions(keys: readonly string[]): CompletionCounts {
  const counts = new Map<string, number>();
  let modalCount = 0;
  for (const k of keys) {
    const c = (counts.get(k) ?? 0) + 1;
    counts.set(k, c);
    if (c > modalCount) modalCount = c;
  }
  return { unique: counts.size, modalCount, total: keys.length };
}

/** Share of repetitions equal to the most common completion; null for none. */
export function exactMatchRate(c: CompletionCounts): number | null {
  return c.total > 0 ? c.modalCount / c.total : null;
}

/**
 * TARr@N over groups: the share of groups whose runs are all identical. Each entry is one group's
 * completion counts; groups with fewer than two runs say nothing about agreement and are left out.
 */
export function tarr(groups: readonly CompletionCounts[]): Tarr {
  let counted = 0;
  let agreeing = 0;
  let n: number | null = null;
  for (const g of groups) {
    if (g.total < 2) continue;
    counted++;
    if (g.unique === 1) agreeing++;
    n = n === null ? g.total : Math.min(n, g.total);
  }
  return { rate: counted ? agreeing / counted : null, groups: counted, n, agreeing, ci: wilson(agreeing, counted) };
}
