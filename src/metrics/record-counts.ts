import type { RecordHead } from '../results/heads.ts';
import type { MetricsSummary } from './types.ts';

/** The summary's record counts: records by status, teacher-forced ones, and how many were superseded. */
export class RecordCounts {
  readonly #counts: MetricsSummary['counts'];

  /** `superseded`: records replaced by a later record of the same key (counted by the reader). */
  constructor(superseded: number) {
    this.#counts = { records: 0, completed: 0, errored: 0, skipped: 0, teacherForced: 0, superseded };
  }

  /** Counts one record by its head (latest of its key). */
  add(r: Pick<RecordHead, 'status' | 'mode'>): void {
    const c = this.#counts;
    c.records++;
    c[r.status]++;
    if (r.mode === 'teacher-forced') c.teacherForced++;
  }

  finish(): MetricsSummary['counts'] {
    return { ...this.#counts };
  }
}
