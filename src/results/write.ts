import { appendFileSync, closeSync, openSync, truncateSync } from 'node:fs';
import { DetbenchError } from '../errors.ts';
import { readTail } from './read.ts';
import type { ResultRecord } from './record.ts';

/**
 * Appends records to a JSONL file, one line each, flushed as each record finishes, so an
 * interrupted run keeps everything it finished. A line is written with a single append call.
 */
export class ResultsWriter {
  constructor(
    readonly file: string,
    warn: (msg: string) => void = () => {},
  ) {
    // Create (or keep) the file now, so an unwritable path fails before any work is done.
    try {
      closeSync(openSync(file, 'a'));
    } catch (cause) {
      throw new DetbenchError('OUTPUT_UNWRITABLE', `${file}: cannot write results file (${(cause as Error).message})`, { cause, file });
    }
    repairTail(file, warn);
  }

  append(record: ResultRecord): void {
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }
}

/**
 * A run killed mid-write can leave a last line without its newline. If that line is a whole
 * record, the reader counted it, so it gets its newline; if not, it is no record (its cell runs
 * again) and is cut off. Either way the next append starts a line of its own.
 */
function repairTail(file: string, warn: (msg: string) => void): void {
  const tail = readTail(file);
  if (tail.kind === 'unterminated') appendFileSync(file, '\n');
  else if (tail.kind === 'truncated') {
    warn(`${file}:${tail.line}: removed a truncated last line (an interrupted run?)`);
    truncateSync(file, tail.keep);
  }
}
