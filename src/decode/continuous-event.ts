import type { RowSummary } from './logits.ts';

/** One token chosen for one member, as {@link ContinuousBatch} reports it. */
export interface TokenEvent<T> {
  /** What the caller joined the request with. */
  tag: T;
  /** Step index within the request (0 = the token chosen after its prefill). */
  step: number;
  token: number;
  /** The row's logits; a view valid only during the call. */
  logits: Float32Array;
  /**
   * The row's top-k list, log-probabilities, margin and hash (`summarizeRow` with the request's
   * `topK`). Computed on first read, during the call only: a consumer that sends no log-probabilities
   * reads just `hash` and spares every row the log-sum-exp pass.
   */
  readonly summary: RowSummary;
  /** The row's logits hash (`hashFloat32`, the same as `summary.hash`); computed on first read, during the call only. */
  readonly hash: string;
  /** Rows in the forward pass that computed this token (the prefill group at step 0, the batch after). */
  batchSize: number;
  /** Set on the member's last token: why it stopped. It has left the batch by the next step. */
  finished: 'stop' | 'length' | null;
}

/** Receives every chosen token, synchronously, before the next forward pass. */
export type OnToken<T> = (event: TokenEvent<T>) => void;

/** A token event's row, refused once its buffer has been released (read after the onToken call). */
export function live(row: Float32Array): Float32Array {
  if (row.length === 0) throw new Error("a TokenEvent's summary and hash can only be read during the onToken call");
  return row;
}
