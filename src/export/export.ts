/**
 * `detbench export`: results files to one Parquet (hyparquet-writer) or CSV file, one row per
 * (record, step). Streams: two passes over the files (the first notes where each reference record
 * lies, the second writes), rows flushed in row groups, so a study of millions of steps never sits
 * in memory. Written to a temporary file and renamed into place: a failed export leaves nothing.
 */
import { closeSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import { DetbenchError, errorMessage } from '../errors.ts';
import { makeDirs } from '../fs-dirs.ts';
import { teacherDivergence } from '../metrics/teacher-divergence.ts';
import type { TeacherDivergence } from '../metrics/types.ts';
import { CaptureSet } from '../results/capture.ts';
import { type RecordLocation, readRecordAt, streamResults } from '../results/read.ts';
import { type CompletedRecord, recordKey } from '../results/record.ts';
import { DETBENCH_VERSION } from '../version.ts';
import { appendRecordRows, type Columns, EXPORT_COLUMNS, emptyColumns } from './rows.ts';

/** Output formats of {@link exportResults}. */
export type ExportFormat = 'parquet' | 'csv';

/** Options of {@link exportResults}. */
export interface ExportOptions {
  format: ExportFormat;
  /** Rows per Parquet row group (and per CSV write). */
  batchRows?: number;
  log?: (m: string) => void;
}

/** What {@link exportResults} wrote. */
export interface ExportSummary {
  file: string;
  records: number;
  rows: number;
  bytes: number;
}

/** A sink for column batches. */
interface Sink {
  write(c: Columns, rows: number): void;
  finish(): void;
}

function parquetSink(file: string, batchRows: number): Sink {
  const schema: SchemaElement[] = [
    { name: 'root', num_children: EXPORT_COLUMNS.length },
    ...EXPORT_COLUMNS.map(([name, type]): SchemaElement => {
      if (type === 'STRING') return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
      return { name, type, repetition_type: 'OPTIONAL' };
    }),
  ];
  const pw = new ParquetWriter({ writer: fileWriter(file), schema, createdBy: `detbench ${DETBENCH_VERSION}` });
  return {
    write(c) {
      void pw.write({ columnData: EXPORT_COLUMNS.map(([name, type]) => ({ name, data: c[name], type })), rowGroupSize: batchRows });
    },
    finish() {
      void pw.finish();
    },
  };
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(v: string | number | boolean | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvSink(file: string): Sink {
  const fd = openSync(file, 'w');
  const put = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
  };
  put(`${EXPORT_COLUMNS.map(([name]) => name).join(',')}\n`);
  return {
    write(c, rows) {
      const cols = EXPORT_COLUMNS.map(([name]) => c[name]);
      let out = '';
      for (let i = 0; i < rows; i++) out += `${cols.map((col) => csvField(col[i] ?? null)).join(',')}\n`;
      put(out);
    },
    finish() {
      closeSync(fd);
    },
  };
}

/**
 * Exports every completed record of `files` (free and teacher-forced) to `out`. Teacher-forced rows
 * carry KL, Δp and same top against their reference: exact where both records were captured
 * (`run --capture`), else the top-k bound, as `kl_basis` says. Records that did not complete have
 * no steps and no rows.
 */
export async function exportResults(files: string[], out: string, o: ExportOptions): Promise<ExportSummary> {
  const log = o.log ?? (() => {});
  const batchRows = o.batchRows ?? 100_000;
  const target = resolve(out);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    makeDirs(dirname(target));
    closeSync(openSync(tmp, 'w'));
  } catch (cause) {
    throw new DetbenchError('OUTPUT_UNWRITABLE', `${target}: cannot write the export (${errorMessage(cause)})`, { cause, file: target });
  }
  try {
    // Pass 1: where every completed free-running record lies, for the teacher-forced rows' references.
    const capture = new CaptureSet();
    const refs = new Map<string, RecordLocation>();
    // The latest record of each profile and id, as every reader resolves duplicates (`latestRecords`).
    const latest = new Map<string, { loc: RecordLocation; finishedAt: string }>();
    for (const f of files) {
      capture.addResults(f);
      streamResults(
        f,
        (r, loc) => {
          const k = recordKey(r);
          const seen = latest.get(k);
          if (seen && r.finishedAt < seen.finishedAt) return;
          latest.set(k, { loc, finishedAt: r.finishedAt });
          if (r.status === 'completed' && r.mode !== 'teacher-forced') refs.set(k, loc);
          else refs.delete(k);
        },
        { lean: true, warn: log },
      );
    }
    const exported = new Set<string>();
    const isLatest = (k: string, loc: RecordLocation): boolean => {
      const w = latest.get(k)?.loc;
      return w !== undefined && w.file === loc.file && w.offset === loc.offset;
    };
    // Pass 2: the rows.
    const sink = o.format === 'parquet' ? parquetSink(tmp, batchRows) : csvSink(tmp);
    let cols = emptyColumns();
    let pending = 0;
    let rows = 0;
    let records = 0;
    for (const f of files) {
      streamResults(
        f,
        (r, where) => {
          const k = recordKey(r);
          // One row set per key, also when one file is given twice.
          if (r.status !== 'completed' || !isLatest(k, where) || exported.has(k)) return;
          exported.add(k);
          capture.note(r, f);
          let divergence: TeacherDivergence | undefined;
          if (r.mode === 'teacher-forced' && r.referenceId) {
            const loc = refs.get(recordKey({ id: r.referenceId, profile: r.profile }));
            if (loc) {
              const ref = readRecordAt(loc) as CompletedRecord;
              capture.note(ref, loc.file);
              const own = r.steps.token.length ? r.steps.token : r.tokens;
              divergence = teacherDivergence(r, ref, Math.min(own.length, ref.tokens.length), capture);
            }
          }
          pending += appendRecordRows(cols, r, divergence);
          records++;
          if (pending >= batchRows) {
            sink.write(cols, pending);
            rows += pending;
            cols = emptyColumns();
            pending = 0;
          }
        },
        { warn: log },
      );
    }
    if (pending > 0 || rows === 0) sink.write(cols, pending);
    rows += pending;
    sink.finish();
    renameSync(tmp, target);
    return { file: target, records, rows, bytes: statSync(target).size };
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw err;
  }
}
