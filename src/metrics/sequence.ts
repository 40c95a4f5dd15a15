import type { CompletedRecord } from '../results/record.ts';
import type { SequenceBasis } from './types.ts';

type Seq = Pick<CompletedRecord, 'tokens' | 'tokenTexts' | 'text'>;

/** Token ids when every record has them, else token texts (remote runners report texts only). */
export function sequenceBasis(records: readonly Seq[]): SequenceBasis {
  return records.length > 0 && records.every((r) => r.tokens.length > 0) ? 'ids' : 'texts';
}

/**
 * The sequence compared on `basis`. A record with text but no per-token texts counts as one token,
 * so two different texts never compare equal.
 */
export function sequenceOf(r: Seq, basis: SequenceBasis): readonly (number | string)[] {
  if (basis === 'ids') return r.tokens;
  if (r.tokenTexts.length === 0 && r.text !== '') return [r.text];
  return r.tokenTexts;
}

/** A string equal for two records exactly when their sequences on `basis` are equal. */
export function completionKey(r: Seq, basis: SequenceBasis): string {
  const seq = sequenceOf(r, basis);
  // JSON keeps texts containing the separator unambiguous; ids are joined plainly (faster).
  return basis === 'ids' ? seq.join(',') : JSON.stringify(seq);
}

/** Index of the first position where the sequences differ, the shorter length if one is a prefix, null if equal. */
export function firstDivergence<T>(a: readonly T[], b: readonly T[]): number | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? null : n;
}
