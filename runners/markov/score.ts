import { contextKey, type NgramTable } from './table.ts';

/** How strongly a shorter context is discounted when the longer one never saw a token. */
export const BACKOFF = 0.4;

/**
 * Writes the next-token logits after `history` into `out` (one per vocabulary entry): the log of
 * the "stupid backoff" score (Brants et al. 2007). With k context tokens, a token seen after them
 * scores count(context, token) / count(context); one never seen scores BACKOFF × its score under
 * the context one token shorter; the unigram base is add-one smoothed, so every logit is finite.
 * Only integer counts, IEEE divisions and multiplications and one `Math.log` per entry: the same
 * logits on every machine, whatever the batch or the thread.
 */
export function ngramLogits(table: NgramTable, history: readonly number[], order: number, out: Float32Array): void {
  const v = table.vocab;
  if (out.length !== v) throw new Error(`logits row of ${out.length}, the table has ${v} tokens`);
  const score = new Float64Array(v);
  const denom = table.unigramTotal + v;
  for (let w = 0; w < v; w++) score[w] = (table.unigram[w]! + 1) / denom;
  const maxContext = Math.min(order, table.order) - 1;
  for (let k = 1; k <= maxContext && k <= history.length; k++) {
    const hit = table.levels[k]!.byContext.get(contextKey(history.slice(history.length - k)));
    for (let w = 0; w < v; w++) score[w] = BACKOFF * score[w]!;
    if (!hit) continue;
    for (let i = 0; i < hit.next.length; i++) score[hit.next[i]!] = hit.counts[i]! / hit.total;
  }
  for (let w = 0; w < v; w++) out[w] = Math.log(score[w]!);
}
