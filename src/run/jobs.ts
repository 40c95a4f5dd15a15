/**
 * `detbench run --jobs N`: the cells of one run in N worker processes on one machine, each with its
 * own sessions. The split is the shard split one level down (prompt × setting units round-robin,
 * see `shard.ts`), so a teacher-forced pass runs in the job that ran its reference. The workers
 * only compute: every record (and capture block) comes back to this process, which alone writes
 * the results file, so the file stays append-only and locked by one writer.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CapturedRows } from '../decode/capture.ts';
import { DetbenchError } from '../errors.ts';
import type { CompletedRecord, ResultRecord } from '../results/record.ts';
import { JOB_CORES_ENV, jobCores } from '../runner-contract/cores.ts';
import type { RunnerConfig } from '../suite/expand.ts';
import type { Shard } from './shard.ts';

/** What a job worker is asked to run. */
export interface JobRequest {
  suiteFile: string;
  /** The module that exports the run's runner list as `RUNNERS` (`RunnerList.module`). */
  runners: string;
  shard?: Shard;
  job: Shard;
  onlyRunners?: string[];
  capture?: 'f32' | 'u16';
  profile: ResultRecord['profile'];
  /** Ids already done (with --resume): the job skips them. */
  finished: string[];
  /** Completed free-running reference records from before (with --resume), for teacher forcing. */
  references: CompletedRecord[];
  /** Records the whole shard (or run) plans. */
  shardPlanned: number;
}

export type ToJob = { kind: 'run'; request: JobRequest };

export type FromJob =
  | { kind: 'start'; total: number; alreadyDone: number }
  | { kind: 'runner'; runnerId: string; message: string }
  | { kind: 'capture'; id: string; hashes: string[]; rows: CapturedRows }
  | { kind: 'record'; record: ResultRecord }
  | { kind: 'done' }
  | { kind: 'error'; code: string; message: string };

/** Threads one runner keeps busy, as its manifest counts them. */
function threadsOf(r: RunnerConfig): number {
  const n = r.manifest.threads(r.options);
  return n === 'all' ? availableParallelism() : n;
}

/** `--jobs auto`: as many jobs as the cores leave room for the busiest runner's threads (at least 1). */
export function autoJobs(runners: readonly RunnerConfig[], cores = availableParallelism()): number {
  const widest = Math.max(1, ...runners.map(threadsOf));
  return Math.max(1, Math.floor(cores / widest));
}

/** Parses `--jobs`: a whole number ≥ 1, or `auto`. */
export function parseJobs(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new DetbenchError('USAGE', `--jobs: expected a whole number ≥ 1 or auto, got "${text}"`);
  return Number(text);
}

const WORKER = fileURLToPath(new URL('./job-worker.ts', import.meta.url));
/** tsx's loader, resolved here so the child finds it whatever its working directory. */
const TSX = createRequire(import.meta.url).resolve('tsx');

/** Receives what the jobs produce, in the order each job produced it. */
export interface JobSink {
  start(total: number, alreadyDone: number): void;
  runner(runnerId: string, message: string): void;
  capture(id: string, hashes: string[], rows: CapturedRows): void;
  record(record: ResultRecord): void;
  /** Told each worker's process id as it starts (tests use it to kill one). */
  worker?(index: number, pid: number): void;
}

/**
 * Runs `count` jobs and feeds their output to `sink` as it arrives. `start` is called once, with the
 * jobs' totals added up, when every job has planned. Rejects after every job has ended when one
 * failed (its unfinished cells have no record; `--resume` runs them).
 */
export async function runJobs(base: Omit<JobRequest, 'job'>, count: number, sink: JobSink): Promise<void> {
  const starts: { total: number; alreadyDone: number }[] = [];
  const failures: string[] = [];
  const one = (index: number) =>
    new Promise<void>((resolve) => {
      // Each worker counts only its share of the cores (see coresForThisProcess).
      const env = { ...process.env, [JOB_CORES_ENV]: String(jobCores(count)) };
      const child: ChildProcess = fork(WORKER, [], {
        env,
        execArgv: ['--import', TSX],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      if (child.pid !== undefined) sink.worker?.(index, child.pid);
      let done = false;
      let started = false;
      let records = 0;
      child.on('message', (m: FromJob) => {
        if (m.kind === 'start') {
          started = true;
          starts.push(m);
          if (starts.length === count)
            sink.start(
              starts.reduce((a, s) => a + s.total, 0),
              starts.reduce((a, s) => a + s.alreadyDone, 0),
            );
        } else if (m.kind === 'runner') sink.runner(m.runnerId, `job ${index}/${count}: ${m.message}`);
        else if (m.kind === 'capture') sink.capture(m.id, m.hashes, m.rows);
        else if (m.kind === 'record') {
          records++;
          sink.record(m.record);
        } else if (m.kind === 'done') done = true;
        else failures.push(`job ${index}/${count}: ${m.code}: ${m.message}`);
      });
      child.on('exit', (code, signal) => {
        if (!done && !failures.some((f) => f.startsWith(`job ${index}/`)))
          failures.push(`job ${index}/${count} exited (${signal ?? `code ${code}`}) after ${records} record(s)`);
        // A job with nothing to plan still counts towards the combined start.
        if (!started) {
          starts.push({ total: 0, alreadyDone: 0 });
          if (starts.length === count)
            sink.start(
              starts.reduce((a, s) => a + s.total, 0),
              starts.reduce((a, s) => a + s.alreadyDone, 0),
            );
        }
        resolve();
      });
      child.send({ kind: 'run', request: { ...base, job: { index, count } } } satisfies ToJob);
    });
  await Promise.all(Array.from({ length: count }, (_, i) => one(i + 1)));
  if (failures.length)
    throw new DetbenchError('JOB_FAILED', `${failures.join('; ')}: the records written so far are kept; run again with --resume for the rest`);
}
