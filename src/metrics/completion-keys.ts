import type { CompletedRecord } from '../results/record.ts';
import { completionKey } from './sequence.ts';

/**
 * The completion keys of records, as `countCompletions` compares them. A record's token-id key is
 * computed once however many lists it is counted in (its runner's and its whole group's); text keys
 * depend on the list's basis and are not kept.
 */
export class CompletionKeys {
  readonly #byIds = new Map<CompletedRecord, string>();

  of(rs: readonly CompletedRecord[], basis: 'ids' | 'texts'): string[] {
    return rs.map((r) => {
      if (basis === 'texts') return completionKey(r, basis);
      let k = this.#byIds.get(r);
      if (k === undefined) {
        k = completionKey(r, basis);
        this.#byIds.set(r, k);
      }
      return k;
    });
  }
}
