import { existsSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DetbenchError, errorMessage } from '../errors.ts';
import { makeDirs } from '../fs-dirs.ts';
import { captureFileFor } from '../results/capture.ts';

/** Where a run's records go: the results file's folder, and what an earlier run left there. */

/** Creates the output folder; refuses a folder where the results file goes. */
export function makeOutputDir(outFile: string): void {
  if (existsSync(outFile) && !statSync(outFile).isFile()) {
    throw new DetbenchError(
      'OUTPUT_UNWRITABLE',
      `${outFile}: is a folder (or another non-file) where the results file goes; expected a file or nothing there, or another -o`,
      { file: outFile },
    );
  }
  try {
    makeDirs(dirname(outFile));
  } catch (cause) {
    throw new DetbenchError('OUTPUT_UNWRITABLE', `${dirname(outFile)}: cannot create output folder (${errorMessage(cause)})`, { cause, file: outFile });
  }
}

/** Refuses to overwrite an earlier run's results (they would be lost). */
export function refuseOverwrite(outFile: string, resume: boolean): void {
  if (existsSync(outFile) && statSync(outFile).size > 0 && !resume) {
    throw new DetbenchError('OUTPUT_EXISTS', `${outFile}: results file exists; pass --resume to complete it, --fresh to move it aside, or choose another -o`, {
      file: outFile,
    });
  }
}

/** Moves an existing results file and its capture sidecar aside (kept, with the time in its name); returns where, if one existed. */
export function moveAside(outFile: string): string | undefined {
  const side = captureFileFor(outFile);
  if (!existsSync(outFile) && !existsSync(side)) return undefined;
  const aside = join(dirname(outFile), `${basename(outFile, '.jsonl')}.${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  if (existsSync(outFile)) renameSync(outFile, aside);
  // The sidecar belongs to those results: it moves with them.
  if (existsSync(side)) renameSync(side, captureFileFor(aside));
  return aside;
}

/** Refuses an earlier run's capture sidecar unless the run resumes it (its rows belong to those results). */
export function refuseCaptureOverwrite(outFile: string, resume: boolean): void {
  const side = captureFileFor(outFile);
  if (!resume && existsSync(side) && statSync(side).size > 0) {
    throw new DetbenchError('OUTPUT_EXISTS', `${side}: a capture file of earlier results exists; pass --fresh to move it aside, or choose another -o`, {
      file: side,
    });
  }
}
