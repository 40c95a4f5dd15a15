import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync, truncateSync } from 'node:fs';
import { DetbenchError } from '../errors.ts';
import { SCHEMA_VERSION, type ResultRecord } from './record.ts';

/**
 * Appends records to a JSONL file, one line each, flushed as each record finishes, so an
 * interrupted run keeps everything it finished. A line is written with a single append call.
 */
export class ResultsWriter {
  constructor(readonly file: string) {
    // Create (or keep) the file now, so an unwritable path fails before any work is done.
    try {
      closeSync(openSync(file, 'a'));
    } catch (cause) {
      throw new DetbenchError('OUTPUT_UNWRITABLE', `${file}: cannot write results file (${(cause as Error).message})`, { cause, file });
    }
    dropTruncatedTail(file);
  }

  append(record: ResultRecord): void {
    appendFileSync(this.file, JSON.stringify(record) + '\n');
  }
}

/**
 * A run killed mid-write leaves a last line without its newline. That record is incomplete (its
 * cell will run again), and appending after it would glue two records into one invalid line.
 */
function dropTruncatedTail(file: string): void {
  const size = statSync(file).size;
  if (size === 0) return;
  const last = Buffer.alloc(1);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, last, 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
  if (last[0] === 0x0a) return;
  truncateSync(file, readFileSync(file).lastIndexOf(0x0a) + 1);
}

/**
 * Reads a results file. A malformed line is an error naming the file and line; a truncated last
 * line (a run killed mid-write) is dropped with a warning, since every line before it is whole.
 */
export function readResults(file: string, warn: (msg: string) => void = () => {}): ResultRecord[] {
  if (!existsSync(file)) throw new DetbenchError('RESULTS_NOT_FOUND', `${file}: no such results file`, { file });
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const out: ResultRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      if (i === lines.length - 1) {
        warn(`${file}:${i + 1}: ignoring a truncated last line (an interrupted run?)`);
        continue;
      }
      throw new DetbenchError('RESULTS_INVALID', `${file}:${i + 1}: not valid JSON`, { cause, file, line: i + 1 });
    }
    out.push(checkRecord(value, file, i + 1));
  }
  return out;
}

/** Checks one parsed line of a results file; every reader uses it, so all report the same errors. */
export function checkRecord(value: unknown, file: string, line: number): ResultRecord {
  if (typeof value !== 'object' || value === null) throw new DetbenchError('RESULTS_INVALID', `${file}:${line}: not a record`, { file, line });
  const rec = value as Partial<ResultRecord>;
  const missing = ['schemaVersion', 'id', 'status', 'runner', 'prompt', 'setting'].find((k) => !(k in rec));
  if (missing) throw new DetbenchError('RESULTS_INVALID', `${file}:${line}: ${missing}: missing field`, { file, line, field: missing });
  if (rec.schemaVersion !== SCHEMA_VERSION) {
    throw new DetbenchError(
      'RESULTS_VERSION',
      `${file}:${line}: schemaVersion: ${String(rec.schemaVersion)} is not supported (this detbench reads ${SCHEMA_VERSION})`,
      { file, line, field: 'schemaVersion' },
    );
  }
  if (rec.status !== 'completed' && rec.status !== 'errored' && rec.status !== 'skipped') {
    throw new DetbenchError('RESULTS_INVALID', `${file}:${line}: status: expected completed, errored or skipped`, { file, line, field: 'status' });
  }
  return value as ResultRecord;
}
