import type { CompletedRecord, ResultRecord } from '../results/record.ts';
import { completionKey, firstDivergence, sequenceBasis, sequenceOf } from './sequence.ts';

/** Where one completion parted from the reference completion of its prompt. */
export interface Split {
  /** The first token that differs (0-based), or where the shorter one ended. */
  step: number;
  /** The smaller of the two records' top-1/top-2 margins at that step; null where neither recorded one. */
  margin: number | null;
}

/**
 * SGLang's "unique samples" (`test_deterministic`) for one runner and prompt, with where the
 * completions part from the reference: Thinking Machines' "N completions, U unique, first split at
 * token T".
 */
export interface UniqueSamples {
  runner: string;
  prompt: string;
  /** Free-running completed records of this runner and prompt (every setting, batch size and repetition). */
  completions: number;
  unique: number;
  /** What the splits are measured against: the reference runner's most common completion, else this runner's own. */
  against: string;
  /** One per completion that differs from it, earliest first. */
  splits: Split[];
  /** Batch sizes the server reported (`extra.servedBatchSize`), as size to number of completions. */
  servedBatchSizes: Record<string, number>;
}

const completedFree = (r: ResultRecord): r is CompletedRecord => r.status === 'completed' && r.mode === 'free';

/** The most common completion among `records` (ties: the first seen). */
function modal(records: readonly CompletedRecord[], basis: ReturnType<typeof sequenceBasis>): CompletedRecord | undefined {
  const counts = new Map<string, { n: number; r: CompletedRecord }>();
  let best: { n: number; r: CompletedRecord } | undefined;
  for (const r of records) {
    const k = completionKey(r, basis);
    const c = counts.get(k) ?? { n: 0, r };
    c.n++;
    counts.set(k, c);
    if (!best || c.n > best.n) best = c;
  }
  return best?.r;
}

const marginAt = (r: CompletedRecord, step: number): number | null => {
  const m = r.steps.margin[step];
  return typeof m === 'number' && Number.isFinite(m) ? m : null;
};

/**
 * Counts unique completions per runner and prompt, and where each differing completion first
 * parts from the reference. Pass `reference` to measure every runner against that runner's most
 * common completion of the prompt (as "under load" against "alone").
 */
export function uniqueSamples(records: readonly ResultRecord[], reference?: string): UniqueSamples[] {
  const free = records.filter(completedFree);
  const basis = sequenceBasis(free);
  const groups = new Map<string, CompletedRecord[]>();
  for (const r of free) {
    const k = JSON.stringify([r.runner.id, r.prompt.id]);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: UniqueSamples[] = [];
  for (const [k, rs] of groups) {
    const [runner, prompt] = JSON.parse(k) as [string, string];
    const refRecords = reference ? free.filter((r) => r.runner.id === reference && r.prompt.id === prompt) : [];
    const base = modal(refRecords.length ? refRecords : rs, basis)!;
    const baseSeq = sequenceOf(base, basis);
    const splits: Split[] = [];
    for (const r of rs) {
      const step = firstDivergence(baseSeq, sequenceOf(r, basis));
      if (step === null) continue;
      const ms = [marginAt(base, step), marginAt(r, step)].filter((m): m is number => m !== null);
      splits.push({ step, margin: ms.length ? Math.min(...ms) : null });
    }
    splits.sort((a, b) => a.step - b.step);
    const servedBatchSizes: Record<string, number> = {};
    for (const r of rs) {
      const s = r.extra?.servedBatchSize;
      if (typeof s === 'number') servedBatchSizes[s] = (servedBatchSizes[s] ?? 0) + 1;
    }
    out.push({
      runner,
      prompt,
      completions: rs.length,
      unique: new Set(rs.map((r) => completionKey(r, basis))).size,
      against: refRecords.length ? reference! : runner,
      splits,
      servedBatchSizes,
    });
  }
  return out;
}

/** One line: "32 completions, 3 unique, first split at token 100, margin 0 (splits at 100 ×2, 107 ×1)". */
export function headline(u: UniqueSamples): string {
  const head = `${u.completions} completions, ${u.unique} unique`;
  const first = u.splits[0];
  if (!first) return `${head}, none parts from ${u.against === u.runner ? 'the most common' : `${u.against}'s`} completion`;
  const at = new Map<number, number>();
  for (const s of u.splits) at.set(s.step, (at.get(s.step) ?? 0) + 1);
  const dist = [...at].map(([step, n]) => `${step} ×${n}`).join(', ');
  return `${head}, first split at token ${first.step}, margin ${first.margin ?? 'not recorded'} (${u.splits.length} split from ${u.against === u.runner ? 'the most common completion' : `${u.against}'s`}: at ${dist})`;
}
