import { DetbenchError } from '../errors.ts';
import { latestRecords, streamResults } from '../results/read.ts';
import type { ResultRecord } from '../results/record.ts';

/** The suite a run writes records of: its id, its file as records name it, its hash. */
export interface SuiteRef {
  id: string;
  file: string;
  hash: string;
}

const short = (h: string | undefined): string => (h ? h.slice(0, 12) : 'none');

/**
 * The records `--resume` keeps: the latest of each id (a retried cell supersedes its errored record),
 * all of them written by this very suite. Refused (`RESUME_MISMATCH`, naming the line) when a
 * record belongs to another suite id or suite file, when the suite changed since (another suite
 * hash: the cells' ids would mean something else), or when a record has no hash to compare
 * (schemaVersion 1), since a merge that cannot be checked is not made.
 */
export function readForResume(file: string, suite: SuiteRef, warn: (msg: string) => void): ResultRecord[] {
  const all: ResultRecord[] = [];
  streamResults(
    file,
    (r, where) => {
      const at = `${file}:${where.line}`;
      const fail = (what: string): never => {
        throw new DetbenchError(
          'RESUME_MISMATCH',
          `${at}: ${what}; --resume only completes a file of the same suite (use --fresh to move it aside, or another -o)`,
          {
            file,
            line: where.line,
            field: 'suite',
          },
        );
      };
      if (r.suite.id !== suite.id) fail(`record ${r.id} belongs to suite "${r.suite.id}", not "${suite.id}"`);
      if (r.suite.file !== suite.file) fail(`record ${r.id} was written by suite file ${r.suite.file}, not ${suite.file}`);
      if (r.suite.hash === undefined) fail(`record ${r.id} has no suite hash (schemaVersion ${r.schemaVersion}), so it cannot be checked against this suite`);
      if (r.suite.hash !== suite.hash) {
        fail(
          `suite ${suite.id} changed since record ${r.id} was written (suite hash ${short(r.suite.hash)}, now ${short(suite.hash)}: prompts, decoding, runners or their options differ)`,
        );
      }
      all.push(r);
    },
    { warn },
  );
  return latestRecords(all).records;
}
