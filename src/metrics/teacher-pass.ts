import type { CompletedRecord, ResultRecord } from '../results/record.ts';
import { aggregateTeacher } from './aggregate.ts';
import { groupKey } from './groups.ts';
import { type CaptureSource, compareTeacherForced } from './teacher.ts';
import type { MetricsSummary, TeacherForcedComparison } from './types.ts';

/** What {@link TeacherPass} needs besides the records. */
export interface TeacherContext {
  keyOf: (r: ResultRecord) => string;
  /** Teacher-forced record → its reference record, by position in the study (see `MetricsPlan.tfReference`). */
  tfReference: ReadonlyMap<number, number>;
  capture?: CaptureSource | undefined;
  /** Gives a record read lean back in full (the comparison needs both records' log-probabilities). */
  restore: (r: CompletedRecord) => CompletedRecord;
}

/**
 * The teacher-forced pass: each completed teacher-forced record against the reference record it
 * was fed, which the plan places in the same unit. Comparisons are listed in read order, whatever
 * order the units came in.
 */
export class TeacherPass {
  readonly #out: [number, TeacherForcedComparison][] = [];

  constructor(private readonly ctx: TeacherContext) {}

  /** Adds one unit: `records[i]` is the record at position `positions[i]`. */
  addUnit(records: readonly ResultRecord[], positions: readonly number[]): void {
    const { keyOf, tfReference, capture, restore } = this.ctx;
    const at = new Map<number, ResultRecord>();
    for (const [i, p] of positions.entries()) at.set(p, records[i]!);
    for (const [i, p] of positions.entries()) {
      const r = records[i]!;
      const ref = tfReference.get(p);
      if (r.status !== 'completed' || r.mode !== 'teacher-forced' || ref === undefined) continue;
      const refRecord = at.get(ref);
      if (refRecord?.status !== 'completed') throw new Error(`metrics: the reference of ${r.id} is not in its unit`);
      this.#out.push([p, compareTeacherForced(restore(r), restore(refRecord), { group: groupKey(r), runner: keyOf(r), reference: keyOf(refRecord) }, capture)]);
    }
  }

  /** `unmatched`: teacher-forced records whose reference is not among the results (counted by the plan). */
  finish(unmatched: number): MetricsSummary['teacherForced'] {
    const records = [...this.#out].sort((x, y) => x[0] - y[0]).map(([, t]) => t);
    return { records, byPair: aggregateTeacher(records), unmatched };
  }
}
