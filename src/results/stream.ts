import { createReadStream, existsSync } from 'node:fs';
import { DetbenchError } from '../errors.ts';
import { SCHEMA_VERSION, type ResultRecord } from './record.ts';

/**
 * Checks one parsed line with the same rules as `readResults` (src/results/jsonl.ts), which keeps
 * its checks private; keep the two in step.
 */
function checkRecord(value: unknown, file: string, line: number): ResultRecord {
  const rec = value as Partial<ResultRecord>;
  if (typeof value !== 'object' || value === null) throw new DetbenchError('RESULTS_INVALID', `${file}:${line}: not a record`, { file, line });
  const missing = ['schemaVersion', 'id', 'status', 'runner', 'prompt', 'setting'].find((k) => !(k in (rec as object)));
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

/**
 * Reads a results file in chunks, line by line: the same records and errors as `readResults`, without
 * holding the whole file as one string (a results file of a million steps is hundreds of MB, close
 * to V8's longest string). A truncated last line is dropped with a warning.
 */
export async function streamResults(file: string, onRecord: (r: ResultRecord) => void, warn: (msg: string) => void = () => {}): Promise<number> {
  if (!existsSync(file)) throw new DetbenchError('RESULTS_NOT_FOUND', `${file}: no such results file`, { file });
  let lineNo = 0;
  let count = 0;
  const take = (bytes: Buffer, last: boolean): void => {
    lineNo++;
    // Decoding line by line keeps every string small; a line never splits a UTF-8 sequence.
    const line = bytes.toString('utf8');
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      if (last) {
        warn(`${file}:${lineNo}: ignoring a truncated last line (an interrupted run?)`);
        return;
      }
      throw new DetbenchError('RESULTS_INVALID', `${file}:${lineNo}: not valid JSON`, { cause, file, line: lineNo });
    }
    onRecord(checkRecord(value, file, lineNo));
    count++;
  };
  // Bytes of the line in progress, from earlier chunks.
  let pending: Buffer[] = [];
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 8 << 20 })) {
      const buf = chunk as Buffer;
      let start = 0;
      let nl: number;
      while ((nl = buf.indexOf(10, start)) >= 0) {
        const part = buf.subarray(start, nl);
        take(pending.length ? Buffer.concat([...pending, part]) : part, false);
        pending = [];
        start = nl + 1;
      }
      if (start < buf.length) pending.push(buf.subarray(start));
    }
  } catch (cause) {
    if (cause instanceof DetbenchError) throw cause;
    throw new DetbenchError('RESULTS_UNREADABLE', `${file}: cannot read results file (${(cause as Error).message})`, { cause, file });
  }
  if (pending.length) take(Buffer.concat(pending), true);
  return count;
}

/** All records of a file, read with {@link streamResults}. */
export async function readResultsStream(file: string, warn?: (msg: string) => void): Promise<ResultRecord[]> {
  const out: ResultRecord[] = [];
  await streamResults(file, (r) => out.push(r), warn);
  return out;
}
