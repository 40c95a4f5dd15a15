/**
 * The metrics of results files too large to hold: a first pass reads every record's head
 * (`heads.ts`), the plan (`src/metrics/plan.ts`) splits the study into units of records compared
 * with one another, and each unit is read from disk, added to the metrics and dropped. The summary
 * equals `computeMetrics` over the same records in memory (`test/metrics-stream.test.ts`). Memory
 * holds the heads, one unit's records and the comparisons (which keep every teacher-forced step's
 * KL and Δp, for exact percentiles), never all records.
 */

import { DetbenchError } from '../errors.ts';
import { MetricsAccumulator } from '../metrics/accumulate.ts';
import type { MetricsOptions } from '../metrics/compute.ts';
import { type MetricsPlan, planMetrics } from '../metrics/plan.ts';
import type { MetricsSummary } from '../metrics/types.ts';
import { CaptureSet } from './capture.ts';
import { missingFromHead, type RecordHead, streamHeads } from './heads.ts';
import { restoreFrom } from './read.ts';
import type { CompletedRecord, ResultRecord } from './record.ts';
import { RecordStore } from './record-store.ts';
import { ShardCheck } from './shards.ts';

/** Options of {@link streamMetrics}. */
export interface StreamMetricsOptions extends Omit<MetricsOptions, 'capture' | 'restore'> {
  /** Progress, one line each. */
  log?: (m: string) => void;
  /** Warnings about the files (a dropped truncated last line), one line each; default: `log`. */
  warn?: (m: string) => void;
  /**
   * Called with the plan before the first unit is read; what it returns is told every unit's
   * records (read lean: without `steps.topLogprobs` and `timings.stepMs`) as the metrics see them,
   * so that a caller gathers what it needs of every record in the same pass.
   */
  observe?: (plan: MetricsPlan) => UnitObserver | undefined;
}

/** Sees each unit's records (see {@link StreamMetricsOptions.observe}). */
export interface UnitObserver {
  /** `records[i]` is the record at head position `positions[i]`. */
  addUnit(records: readonly ResultRecord[], positions: readonly number[]): void;
}

/** What {@link streamMetrics} computed, and the records, still readable from disk. */
export interface StreamedMetrics {
  metrics: MetricsSummary;
  plan: MetricsPlan;
  /** The records that count, readable until the caller closes it. */
  store: RecordStore;
  /** Records read in the first pass (superseded ones included). */
  read: number;
}

/**
 * Reads `files` (one machine's or many; shards are judged as `merge` judges them, with their
 * capture sidecars) and computes the metrics unit by unit. Bad input is a DetbenchError naming
 * file and line, before anything is returned.
 */
export function streamMetrics(files: readonly string[], opts: StreamMetricsOptions = {}): StreamedMetrics {
  const log = opts.log ?? (() => {});
  const store = new RecordStore();
  const t0 = performance.now();
  const secs = (from: number) => `${((performance.now() - from) / 1000).toFixed(1)} s`;
  try {
    const capture = new CaptureSet();
    const shards = new ShardCheck();
    const all: RecordHead[] = [];
    for (const f of files) {
      if (capture.addResults(f)) log(`${f}: reading its capture sidecar (exact KL divergence)`);
      streamHeads(
        f,
        ({ head, where }) => {
          all.push(head);
          store.add(head, where);
          capture.note(head, f);
          shards.add(head, where);
        },
        { warn: opts.warn ?? log },
      );
    }
    // Shards of one run are judged as merge judges them: metrics over an incomplete set would mislead.
    if (shards.isSharded) shards.verify();
    log(`read the heads of ${all.length} records from ${files.length} file(s) in ${secs(t0)}`);
    const t1 = performance.now();
    const plan = planMetrics(all, opts.reference !== undefined ? { reference: opts.reference } : {});
    store.index(plan.heads);
    // Teacher-forced divergence needs both sides' log-probabilities, which a lean read skips: those
    // records keep their line until their unit is done, and are restored from it once.
    const needsLine = new Set<number>();
    for (const [tf, ref] of plan.tfReference) needsLine.add(tf).add(ref);
    const lines = new Map<ResultRecord, Buffer>();
    const restored = new Map<ResultRecord, CompletedRecord>();
    const restore = (r: CompletedRecord): CompletedRecord => {
      let full = restored.get(r);
      if (!full) {
        const line = lines.get(r);
        full = line ? (restoreFrom(r, line) as CompletedRecord) : r;
        restored.set(r, full);
      }
      return full;
    };
    const acc = new MetricsAccumulator(plan, { capture, restore, ...(opts.nearTie !== undefined ? { nearTie: opts.nearTie } : {}) });
    const observer = opts.observe?.(plan);
    for (const unit of plan.units) {
      const records = unit.map((i) => {
        const h = plan.heads[i]!;
        const { record: r, line } = store.readLine(h, true);
        const late = missingFromHead(h, r);
        if (late) {
          const w = store.locate(h);
          throw new DetbenchError(
            'RESULTS_INVALID',
            `${w.file}:${w.line}: ${late}: written after the per-step data; a record's common fields come first (as detbench writes them), so that a large study can be read in two passes`,
            { file: w.file, line: w.line },
          );
        }
        if (needsLine.has(i)) lines.set(r, line);
        return r;
      });
      observer?.addUnit(records, unit);
      acc.addUnit(records, unit);
      lines.clear();
      restored.clear();
    }
    // A superseded record counts for nothing, but a damaged one is still bad input.
    if (plan.superseded) {
      const kept = new Set(plan.heads);
      for (const h of all) if (!kept.has(h)) store.read(h, true);
    }
    const metrics = acc.summary();
    log(`metrics over ${plan.units.length} units in ${secs(t1)}`);
    return { metrics, plan, store, read: all.length };
  } catch (err) {
    store.close();
    throw err;
  }
}
