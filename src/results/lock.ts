import { readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { DetbenchError } from '../errors.ts';

/** Who holds a results file's lock (written inside the lock folder, read by a refused run). */
interface Holder {
  pid: number;
  host: string;
  since: string;
}

/**
 * A lock that nobody refreshes for this long is abandoned (proper-lockfile refreshes it every half of
 * it). Long, because a model load can block the event loop for many seconds; a run killed on this
 * machine is recognised at once by its pid instead.
 */
const STALE_MS = 30_000;

const lockDir = (file: string): string => `${file}.lock`;
const holderFile = (file: string): string => join(lockDir(file), 'holder.json');

function readHolder(file: string): Holder | null {
  try {
    return JSON.parse(readFileSync(holderFile(file), 'utf8')) as Holder;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock left behind by a run that is gone: its holder is a dead process on this machine, or it
 * has no holder although it is older than the moment between creating it and naming its holder.
 */
function abandoned(file: string): boolean {
  const h = readHolder(file);
  if (h) return h.host === hostname() && !alive(h.pid);
  try {
    return Date.now() - statSync(lockDir(file)).mtimeMs > 2000;
  } catch {
    return true;
  }
}

/** A held lock on a results file. */
export interface ResultsLock {
  release(): Promise<void>;
}

/**
 * Takes the lock on a results file (proper-lockfile: a `<file>.lock` folder, created atomically and
 * refreshed while held), so that two runs never append to one file. A second run is refused with
 * `RESULTS_LOCKED`, naming the holder's pid and host. The lock goes when the run ends (also on
 * Ctrl-C); one left by a killed run is taken over (see {@link abandoned}).
 */
export async function lockResults(file: string, warn: (msg: string) => void, o: { staleMs?: number; takeOver?: boolean } = {}): Promise<ResultsLock> {
  const staleMs = o.staleMs ?? STALE_MS;
  const opts = {
    realpath: false,
    stale: staleMs,
    lockfilePath: lockDir(file),
    // Never throw from a timer: a run that lost its lock warns and finishes what it can.
    onCompromised: (err: Error) => warn(`${file}: lost the lock on the results file (${err.message}); another run may be writing it too`),
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, opts);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') {
      throw new DetbenchError('OUTPUT_UNWRITABLE', `${file}: cannot lock the results file (${(err as Error).message})`, { cause: err, file });
    }
    if (o.takeOver === false || !abandoned(file)) {
      const h = readHolder(file);
      const who = h ? `pid ${h.pid} on ${h.host}, since ${h.since}` : 'holder unknown';
      throw new DetbenchError(
        'RESULTS_LOCKED',
        `${file}: another detbench run is writing this results file (${who}); wait for it to end or choose another -o (a lock left by a run that is gone expires ${staleMs / 1000} s after its last refresh: ${lockDir(file)})`,
        { file },
      );
    }
    warn(`${file}: taking over the lock of a run that is gone (${lockDir(file)})`);
    rmSync(lockDir(file), { recursive: true, force: true });
    return lockResults(file, warn, { ...o, takeOver: false });
  }
  const holder: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  // proper-lockfile checks that the folder's mtime is still the one it set (else the lock was taken
  // over): writing a file into the folder changes it, so set it back.
  const { atime, mtime } = statSync(lockDir(file));
  writeFileSync(holderFile(file), JSON.stringify(holder));
  utimesSync(lockDir(file), atime, mtime);
  // proper-lockfile removes its folder on exit, but only when empty: take the holder out first.
  const dropHolder = (): void => {
    try {
      unlinkSync(holderFile(file));
    } catch {
      // already gone
    }
  };
  process.once('exit', dropHolder);
  return {
    release: async () => {
      process.off('exit', dropHolder);
      dropHolder();
      // A lock lost meanwhile (warned about in onCompromised) is already released.
      await release().catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ERELEASED') throw err;
      });
    },
  };
}
