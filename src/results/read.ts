/**
 * The one reader of results files: `--resume`, `detbench report`, `detbench gate` and the metrics all
 * read through here, so a file means the same to each of them. It streams (fixed-size chunks, line by
 * line: a results file of a million steps is hundreds of MB, close to V8's longest string) and
 * validates every line against the record schema (`schema.ts`).
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { DetbenchError } from '../errors.ts';
import { type LeanOptions, leanRanges, parseBytes, type RecordLocation, readBytes } from './lean.ts';
import { type ResultRecord, recordKey } from './record.ts';
import { checkRecord } from './validate.ts';

export type { RecordLocation } from './lean.ts';

/** Options of {@link streamResults} and {@link readResults}. */
export interface ReadOptions extends LeanOptions {
  /** Told about a dropped truncated last line. */
  warn?: (msg: string) => void;
}

/**
 * The state of a file's last line. `truncated`: a run was killed while writing it (not valid JSON):
 * it is no record, and `keep` bytes (up to its start) are whole. `unterminated`: a whole record
 * whose newline is missing: it counts, and a writer must add the newline before appending.
 */
export type TailState = { kind: 'ok' } | { kind: 'unterminated' } | { kind: 'truncated'; keep: number; line: number };

/** What {@link streamResults} read. */
export interface ReadSummary {
  records: number;
  tail: TailState;
}

const CHUNK = 8 << 20;

function isBlank(bytes: Buffer): boolean {
  return bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0d);
}

/**
 * Reads `file` line by line and calls `onRecord` with each record (validated) and where it lies. A
 * malformed line is a DetbenchError naming the file, the line and the field. A last line that is not
 * valid JSON is a write cut short by a kill: it is dropped with a warning (every line before it is
 * whole); a last line that is a whole record without its newline counts like any other.
 */
export function streamResults(file: string, onRecord: (r: ResultRecord, where: RecordLocation) => void, opts: ReadOptions = {}): ReadSummary {
  const lean = opts.lean === true;
  let records = 0;
  let tail: TailState = { kind: 'ok' };
  scanLines(file, (bytes, offset, lineNo, last) => {
    let value: unknown;
    try {
      value = parseBytes(bytes, lean, file, lineNo);
    } catch (err) {
      if (!last) throw err;
      opts.warn?.(`${file}:${lineNo}: ignoring a truncated last line (an interrupted run?)`);
      tail = { kind: 'truncated', keep: offset, line: lineNo };
      return;
    }
    onRecord(checkRecord(value, file, lineNo), { file, offset, length: bytes.length, line: lineNo });
    records++;
    if (last) tail = { kind: 'unterminated' };
  });
  return { records, tail };
}

/**
 * Calls `take` with every non-blank line of `file` (its bytes, file offset and 1-based number;
 * `last` for a final line without its newline), reading fixed-size chunks. Errors opening or
 * reading the file are DetbenchErrors naming it.
 */
export function scanLines(file: string, take: (bytes: Buffer, offset: number, lineNo: number, last: boolean) => void): void {
  if (!existsSync(file)) throw new DetbenchError('RESULTS_NOT_FOUND', `${file}: no such results file`, { file });
  let fd: number;
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
    fd = openSync(file, 'r');
  } catch (cause) {
    throw new DetbenchError('RESULTS_UNREADABLE', `${file}: cannot read results file (${(cause as Error).message})`, { cause, file });
  }
  let lineNo = 0;
  const line = (bytes: Buffer, offset: number, last: boolean): void => {
    lineNo++;
    if (!isBlank(bytes)) take(bytes, offset, lineNo, last);
  };
  // Bytes of the line in progress, from earlier chunks, and the file offset where it starts.
  let pending: Buffer[] = [];
  let lineStart = 0;
  let base = 0;
  try {
    for (;;) {
      // A fresh buffer per chunk: lines handed on may still point into the previous one.
      const buf = Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, base);
      } catch (cause) {
        throw new DetbenchError('RESULTS_UNREADABLE', `${file}: cannot read results file (${(cause as Error).message})`, { cause, file });
      }
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
        const part = chunk.subarray(start, nl);
        line(pending.length ? Buffer.concat([...pending, part]) : part, lineStart, false);
        pending = [];
        start = nl + 1;
        lineStart = base + start;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
      base += n;
    }
    if (pending.length) {
      const rest = Buffer.concat(pending);
      if (!isBlank(rest)) line(rest, lineStart, true);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The state of the file's last line alone, judged exactly as {@link streamResults} judges it, but
 * reading only from the last newline (for a writer about to append).
 */
export function readTail(file: string): TailState {
  const size = statSync(file).size;
  if (size === 0) return { kind: 'ok' };
  const fd = openSync(file, 'r');
  let start = 0;
  let lines = 0;
  try {
    // Backwards, a chunk at a time, to the last newline; then count the lines before it.
    const buf = Buffer.allocUnsafe(1 << 16);
    let end = size;
    let found = -1;
    while (end > 0 && found < 0) {
      const from = Math.max(0, end - buf.length);
      const n = readSync(fd, buf, 0, end - from, from);
      const i = buf.subarray(0, n).lastIndexOf(10);
      if (i >= 0) found = from + i;
      end = from;
    }
    if (found === size - 1) return { kind: 'ok' };
    start = found + 1;
    for (let pos = 0; pos < start; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, start - pos), pos);
      for (let i = 0; i < n; i++) if (buf[i] === 10) lines++;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  const bytes = readBytes({ file, offset: start, length: size - start, line: lines + 1 });
  if (isBlank(bytes)) return { kind: 'ok' };
  let value: unknown;
  try {
    value = parseBytes(bytes, false, file, lines + 1);
  } catch {
    return { kind: 'truncated', keep: start, line: lines + 1 };
  }
  checkRecord(value, file, lines + 1);
  return { kind: 'unterminated' };
}

/** Every record of a file, in file order (see {@link streamResults}). */
export function readResults(file: string, opts: ReadOptions = {}): ResultRecord[] {
  const out: ResultRecord[] = [];
  streamResults(file, (r) => out.push(r), opts);
  return out;
}

/** Reads one record again, in full, from where {@link streamResults} found it. */
export function readRecordAt(where: RecordLocation): ResultRecord {
  return checkRecord(parseBytes(readBytes(where), false, where.file, where.line), where.file, where.line);
}

/**
 * Puts back what a lean read skipped, parsing only those arrays (numbers, so ASCII) from the file:
 * cheaper than {@link readRecordAt} when a record is needed in full after a lean read.
 */
export function restoreLean(record: ResultRecord, where: RecordLocation): ResultRecord {
  return record.status === 'completed' ? restoreFrom(record, readBytes(where)) : record;
}

/** {@link restoreLean} from the record's line, already read. */
export function restoreFrom(record: ResultRecord, line: Buffer): ResultRecord {
  if (record.status !== 'completed') return record;
  let steps = record.steps;
  let timings = record.timings;
  for (const [from, to] of leanRanges(line)) {
    const value = JSON.parse(line.toString('latin1', from, to)) as number[] & number[][];
    const key = line.toString('latin1', Math.max(0, from - 16), from);
    if (key.endsWith('"topLogprobs":')) steps = { ...steps, topLogprobs: value };
    else if (key.endsWith('"stepMs":')) timings = { ...timings, stepMs: value };
  }
  return { ...record, steps, timings };
}

/** What {@link latestRecords} kept. */
export interface LatestRecords<T = ResultRecord> {
  /** One record per {@link recordKey}, at the place where that key first appeared. */
  records: T[];
  /** Records replaced by a later one of the same key. */
  superseded: number;
}

/**
 * One record per profile and id: the latest. A resumed run appends a retry of an errored cell after
 * the errored record, so the record that finished last is the one that counts; among records that
 * finished at the same instant (the same file read twice), the one read last. Every consumer (report,
 * gate, metrics, `--resume`) resolves duplicates through here.
 */
export function latestRecords<T extends { id: string; profile: { id: string }; finishedAt: string }>(all: readonly T[]): LatestRecords<T> {
  const at = new Map<string, number>();
  const records: T[] = [];
  for (const r of all) {
    const k = recordKey(r);
    const i = at.get(k);
    if (i === undefined) {
      at.set(k, records.length);
      records.push(r);
    } else if (r.finishedAt >= records[i]!.finishedAt) records[i] = r;
  }
  return { records, superseded: all.length - records.length };
}
