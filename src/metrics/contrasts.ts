import type { CompletedRecord, ResultRecord } from '../results/record.ts';
import { groupKey } from './groups.ts';
import { comparePair } from './pairs.ts';
import { sequenceBasis } from './sequence.ts';
import type { PairComparison } from './types.ts';

/**
 * Pairs of one runner's records that differ in exactly one thing besides the runner's arithmetic,
 * each labelled with the second record's group:
 * - `batch`: a record run inside a batch of several sequences against the same prompt, setting and
 *   repetition run alone (batch size 1): same tokens in, only the other rows of the pass differ;
 * - `seed`: a sampled record against the same prompt, temperature, top-k, top-p, batch size and
 *   repetition drawn with the runner's first seed: what another seed changes.
 */
export function contrastPairs(free: readonly ResultRecord[], keyOf: (r: ResultRecord) => string, nearTie?: number): PairComparison[] {
  const done = free.filter((r): r is CompletedRecord => r.status === 'completed');
  const tie = nearTie !== undefined ? { nearTie } : {};
  const out: PairComparison[] = [];

  const cell = (r: CompletedRecord) => `${keyOf(r)}\u0000${r.suite.id}\u0000${r.prompt.id}\u0000${r.repetition}`;
  const alone = new Map<string, CompletedRecord>();
  for (const r of done) if (r.batchSize === 1) alone.set(`${cell(r)}\u0000${r.setting.id}`, r);
  for (const r of done) {
    if (r.batchSize === 1) continue;
    const a = alone.get(`${cell(r)}\u0000${r.setting.id}`);
    if (a) out.push(comparePair(a, r, { group: groupKey(r), relation: 'batch', basis: sequenceBasis([a, r]), runners: [keyOf(r), keyOf(r)], ...tie }));
  }

  // Sampled settings that differ only in the seed; the first seed seen is the baseline.
  const unseeded = (r: CompletedRecord): string | null => {
    const s = r.setting.sampling;
    return s.kind === 'sample' ? `${cell(r)}\u0000b${r.batchSize}\u0000${s.temperature}\u0000${s.topK}\u0000${s.topP}` : null;
  };
  const firstSeed = new Map<string, CompletedRecord>();
  for (const r of done) {
    const k = unseeded(r);
    if (k === null) continue;
    const a = firstSeed.get(k);
    if (!a) firstSeed.set(k, r);
    else if (a.setting.id !== r.setting.id) {
      out.push(comparePair(a, r, { group: groupKey(r), relation: 'seed', basis: sequenceBasis([a, r]), runners: [keyOf(r), keyOf(r)], ...tie }));
    }
  }
  return out;
}
