import type { CompletedRecord } from '../results/record.ts';
import { comparePair } from './pairs.ts';
import { sequenceBasis } from './sequence.ts';
import type { PairComparison } from './types.ts';

/**
 * The pairs compared within one comparison group, runner by runner (in `completedBy`'s order, each
 * runner's records by repetition): each repetition against the runner's first completed one, then,
 * for runners other than the reference, each record against the reference's record of the same
 * repetition (else the reference's first completed record).
 */
export function groupPairs(
  group: string,
  completedBy: ReadonlyMap<string, readonly CompletedRecord[]>,
  reference: string | null,
  nearTie?: number,
): PairComparison[] {
  const tie = nearTie !== undefined ? { nearTie } : {};
  const pairs: PairComparison[] = [];
  const refDone = reference ? (completedBy.get(reference) ?? []) : [];
  for (const [rk, done] of completedBy) {
    const first = done[0];
    if (!first) continue;
    for (const r of done.slice(1)) {
      pairs.push(comparePair(first, r, { group, relation: 'repetition', basis: sequenceBasis([first, r]), runners: [rk, rk], ...tie }));
    }
    if (!reference || rk === reference || refDone.length === 0) continue;
    for (const r of done) {
      const ref = refDone.find((x) => x.repetition === r.repetition) ?? refDone[0]!;
      pairs.push(comparePair(ref, r, { group, relation: 'cross-runner', basis: sequenceBasis([ref, r]), runners: [reference, rk], ...tie }));
    }
  }
  return pairs;
}
