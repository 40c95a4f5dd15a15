import type { z } from 'zod';
import type { recordSchemas, resultRecordSchema } from './schema.ts';

export { READABLE_VERSIONS, SCHEMA_VERSION } from './schema.ts';

/** One line of a results file, as `src/results/schema.ts` defines it. */
export type ResultRecord = z.output<typeof resultRecordSchema>;
export type CompletedRecord = z.output<typeof recordSchemas.completed>;
export type ErroredRecord = z.output<typeof recordSchemas.errored>;
export type SkippedRecord = z.output<typeof recordSchemas.skipped>;

/** Fields every record carries, whatever its status. */
export type RecordCommon = Omit<ErroredRecord, 'status' | 'error'>;

/**
 * The identity of a record across files: its hardware profile and its id. Two records with one key
 * are the same cell measured twice on one machine (a resumed retry, or one file read twice); the
 * later one supersedes the earlier (see `latestRecords`).
 */
export function recordKey(r: { id: string; profile: { id: string } }): string {
  return `${r.profile.id}\u0000${r.id}`;
}
