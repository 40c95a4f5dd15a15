/**
 * The export table: one row per (record, step), in columns, so that pandas, polars and DuckDB read
 * a study with no code of ours. Pure: records in, column batches out.
 */

import type { TeacherDivergence } from '../metrics/types.ts';
import type { CompletedRecord } from '../results/record.ts';

/** Parquet type of an export column (hyparquet-writer's basic types). */
export type ColumnType = 'STRING' | 'INT32' | 'DOUBLE' | 'BOOLEAN';

/** The columns, in order, with their types and meaning (the README lists them too). */
export const EXPORT_COLUMNS = [
  ['record_id', 'STRING', 'the record id'],
  ['suite', 'STRING', 'suite id'],
  ['prompt', 'STRING', 'prompt id'],
  ['setting', 'STRING', 'decoding setting id'],
  ['runner', 'STRING', 'runner id'],
  ['runner_type', 'STRING', 'runner type'],
  ['profile', 'STRING', 'hardware profile id'],
  ['repetition', 'INT32', 'repetition index'],
  ['batch_size', 'INT32', 'batch size of the cell'],
  ['mode', 'STRING', 'free or teacher-forced'],
  ['reference_id', 'STRING', 'teacher-forced: the reference record fed'],
  ['step', 'INT32', 'generated position, from 0'],
  ['token', 'INT32', 'the chosen token id (teacher-forced: the model’s own choice)'],
  ['forced', 'INT32', 'teacher-forced: the token fed'],
  ['token_text', 'STRING', 'the chosen token’s text'],
  ['top1_id', 'INT32', 'best candidate'],
  ['top1_logit', 'DOUBLE', 'its logit'],
  ['top1_logprob', 'DOUBLE', 'its log-probability'],
  ['top2_id', 'INT32', 'second-best candidate'],
  ['top2_logit', 'DOUBLE', 'its logit'],
  ['margin', 'DOUBLE', 'top-1 minus top-2 logit'],
  ['hash', 'STRING', '64-bit hash of the full logits row'],
  ['kl', 'DOUBLE', 'teacher-forced: KL(P_reference ‖ Q) at this step'],
  ['dp', 'DOUBLE', 'teacher-forced: q(t) − p(t) for the reference token t'],
  ['same_top', 'BOOLEAN', 'teacher-forced: both rank the same token first'],
  ['kl_basis', 'STRING', 'full (from a capture) or top-k (KL a lower bound)'],
  ['step_ms', 'DOUBLE', 'wall time of the step'],
] as const satisfies readonly (readonly [string, ColumnType, string])[];

/** A column name. */
export type ColumnName = (typeof EXPORT_COLUMNS)[number][0];

/** A batch of rows, column by column. */
export type Columns = Record<ColumnName, (string | number | boolean | null)[]>;

/** An empty batch. */
export function emptyColumns(): Columns {
  return Object.fromEntries(EXPORT_COLUMNS.map(([name]) => [name, []])) as unknown as Columns;
}

const num = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** Appends one row per step of `r` to `out`; `divergence` is the teacher-forced record's, when known. */
export function appendRecordRows(out: Columns, r: CompletedRecord, divergence?: TeacherDivergence): number {
  const s = r.steps;
  const n = Math.max(s.token?.length ?? 0, r.tokens.length, r.tokenTexts.length);
  for (let i = 0; i < n; i++) {
    out.record_id.push(r.id);
    out.suite.push(r.suite.id);
    out.prompt.push(r.prompt.id);
    out.setting.push(r.setting.id);
    out.runner.push(r.runner.id);
    out.runner_type.push(r.runner.type);
    out.profile.push(r.profile.id);
    out.repetition.push(r.repetition);
    out.batch_size.push(r.batchSize);
    out.mode.push(r.mode);
    out.reference_id.push(r.referenceId ?? null);
    out.step.push(i);
    out.token.push(s.token?.[i] ?? r.tokens[i] ?? null);
    out.forced.push(s.forced?.[i] ?? null);
    out.token_text.push(r.tokenTexts[i] ?? null);
    out.top1_id.push(s.topIds?.[i]?.[0] ?? null);
    out.top1_logit.push(num(s.topLogits?.[i]?.[0]));
    out.top1_logprob.push(num(s.topLogprobs?.[i]?.[0]));
    out.top2_id.push(s.topIds?.[i]?.[1] ?? null);
    out.top2_logit.push(num(s.topLogits?.[i]?.[1]));
    out.margin.push(num(s.margin?.[i]));
    out.hash.push(s.hash?.[i] ?? null);
    out.kl.push(num(divergence?.kl[i]));
    out.dp.push(num(divergence?.dp[i]));
    out.same_top.push(divergence?.sameTop[i] ?? null);
    out.kl_basis.push(divergence && i < divergence.kl.length ? divergence.basis : null);
    out.step_ms.push(num(r.timings.stepMs[i]));
  }
  return n;
}
