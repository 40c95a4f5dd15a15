import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { CapturedRows, CaptureEncoding } from '../decode/capture.ts';
import { detectFingerprint, type Fingerprint } from '../env/fingerprint.ts';
import { recordProfile } from '../env/profile.ts';
import type { HubProgress } from '../model/hub/fetch-watch.ts';
import { loadModel } from '../model/load.ts';
import type { LoadedModel } from '../model/types.ts';
import { CaptureWriter, captureFileFor } from '../results/capture.ts';
import { lockResults } from '../results/lock.ts';
import type { CompletedRecord, ResultRecord } from '../results/record.ts';
import { isRecordRunnerType } from '../results/schema.ts';
import { ResultsWriter } from '../results/write.ts';
import type { RunnerList } from '../runner-contract/manifest.ts';
import { checkCellCount, countCells, DEFAULT_MAX_CELLS } from '../suite/count.ts';
import { suiteHash } from '../suite/hash.ts';
import { atSuiteLine, loadSuite, suiteError } from '../suite/load.ts';
import { autoJobs, runJobs } from './jobs.ts';
import { fetchRunnerFiles, hubProvenance, openModelSource } from './model-source.ts';
import { loadRunnerModels } from './models.ts';
import { makeOutputDir, moveAside, refuseCaptureOverwrite, refuseOverwrite } from './output.ts';
import { checkShardFits, planRun, selectRunners } from './plan.ts';
import { preparePrompts } from './prompts.ts';
import { readForResume } from './resume.ts';
import { type RunContext, runRunner } from './run-runner.ts';
import { type Shard, unitsIn } from './shard.ts';

export interface RunOptions {
  suiteFile: string;
  /** The runners the suite may name (the CLI and the library pass the shipped list, `runners/index.ts`). */
  runners: RunnerList;
  /** The results JSONL file. */
  outFile: string;
  /** Keep the records already in `outFile` and run only the cells that have none (or an errored one). */
  resume?: boolean;
  /** Move an existing `outFile` (and its capture sidecar) aside, once the lock is held, and start anew. */
  fresh?: boolean;
  /** Warnings (a truncated last line removed, a stale lock taken over, ...). */
  warn?: (msg: string) => void;
  profile?: { id: string; fingerprint: Fingerprint };
  /** Run only these runner ids (after matrix expansion). */
  onlyRunners?: string[];
  /** Refuse a suite that plans more cells than this (default {@link DEFAULT_MAX_CELLS}). */
  maxCells?: number;
  onEvent?: (event: RunEvent) => void;
  /** Capture every local step's full row into the sidecar (`results.capture.bin`) in this encoding. */
  capture?: CaptureEncoding;
  /** Run only this shard's cells (see `shard.ts`); every record says which shard it is. */
  shard?: Shard;
  /** Run the cells in this many worker processes (`--jobs`, see `jobs.ts`); this process writes. */
  jobs?: number | 'auto';
  /** Set in a `--jobs` worker: run job `job.index` of the cells and hand every record to the parent. */
  worker?: WorkerMode;
}

/** How a `--jobs` worker runs: its slice, what was done before, and where its output goes. */
export interface WorkerMode {
  job: Shard;
  /** Records the whole shard plans (recorded in `shard.planned`), not just this job. */
  shardPlanned: number;
  finished: string[];
  references: CompletedRecord[];
  capture(id: string, hashes: string[], rows: CapturedRows): void;
  record(record: ResultRecord): void;
}

export type RunEvent =
  | { kind: 'start'; total: number; alreadyDone: number }
  | { kind: 'record'; record: ResultRecord }
  | { kind: 'runner'; runnerId: string; message: string }
  | ({ kind: 'download'; repo: string } & HubProgress);

export interface RunSummary {
  file: string;
  completed: number;
  errored: number;
  skipped: number;
  /** Records kept from an earlier run (with --resume). */
  kept: number;
  /** With --fresh: where the earlier results were moved. */
  movedAside?: string;
}

/**
 * Runs a suite: every cell becomes exactly one record, appended to the results file as it
 * finishes. Configuration problems throw DetbenchError before any record is written; failures
 * of one runner or one cell become `errored` or `skipped` records and the run goes on. What runs
 * is decided by {@link planRun}; this function loads what it needs and carries the plan out.
 */
export async function runSuite(opts: RunOptions): Promise<RunSummary> {
  const suite = loadSuite(opts.suiteFile, opts.runners);
  suite.runners.forEach((r, i) => {
    // A runner the record contract does not name could write records no reader accepts.
    if (!isRecordRunnerType(r.type)) {
      throw suiteError(
        'SUITE_INVALID',
        suite.at(['runners', i, 'type']),
        `runner type "${r.type}" is not one the record contract names (RECORD_RUNNER_TYPES in src/results/schema.ts), so its records could not be read back`,
      );
    }
  });
  checkCellCount(suite, countCells(suite, opts.onlyRunners), opts.maxCells ?? DEFAULT_MAX_CELLS);
  const { selected, referenceId } = selectRunners(suite, opts.onlyRunners);

  const local = selected.filter((r) => r.manifest.needsModel);
  if (local.length && !suite.model) {
    throw suiteError(
      'SUITE_INVALID',
      suite.at(['model']),
      `required by local runners (${local.map((r) => r.id).join(', ')}); expected a model folder (model: path) or remote-api runners only`,
    );
  }
  const source = await openModelSource(suite, opts.onEvent && ((p) => opts.onEvent!({ kind: 'download', ...p })));
  const modelDir = source?.dir;
  const baseFile = source?.baseFile;
  // A Hub model fetches every ONNX file its runners name first (a local folder has them already).
  const choices = local.map((r) => r.manifest.modelChoice(r.options));
  await fetchRunnerFiles(source, choices);
  const modelAt = suite.at(suite.model?.file ? ['model', 'file'] : ['model']);
  const atModel = (err: unknown) => {
    throw atSuiteLine(err, modelAt);
  };
  const baseModel = modelDir ? await loadModel(modelDir, baseFile ? { onnxFile: baseFile } : {}).catch(atModel) : undefined;
  // Every runner's model file is loaded and checked before any record: a precision whose file is
  // missing, or a graph detbench cannot feed, is a suite error (exit 2), never an errored cell.
  const models = modelDir && baseModel ? await loadRunnerModels(modelDir, baseModel, baseFile, choices).catch(atModel) : new Map<string, LoadedModel>();
  const prompts = preparePrompts(suite, baseModel);
  const units = checkShardFits(suite, opts.shard);

  const w = opts.worker;
  const outFile = w ? '' : resolve(opts.outFile);
  const warn = opts.warn ?? (() => {});
  const suiteRef = { id: suite.id, file: relative(process.cwd(), suite.file), hash: suiteHash(suite) };
  // A --jobs worker writes no file: its parent holds the lock and writes what the workers send.
  if (!w) makeOutputDir(outFile);
  const lock = w ? null : await lockResults(outFile, warn);
  try {
    const movedAside = !w && opts.fresh ? moveAside(outFile) : undefined;
    if (!w) {
      refuseOverwrite(outFile, opts.resume ?? false);
      refuseCaptureOverwrite(outFile, opts.resume ?? false);
    }
    const existing: ResultRecord[] = w ? w.references : opts.resume && existsSync(outFile) ? readForResume(outFile, suiteRef, warn) : [];
    const writer = w ? null : new ResultsWriter(outFile, warn);
    const finished = new Set(w ? w.finished : existing.filter((r) => r.status !== 'errored').map((r) => r.id));
    const filters = {
      ...(opts.onlyRunners ? { onlyRunners: opts.onlyRunners } : {}),
      ...(opts.shard ? { shard: opts.shard } : {}),
      ...(w ? { job: w.job } : {}),
    };
    const plan = planRun(suite, finished, filters);
    const asked = opts.jobs === 'auto' ? autoJobs(selected) : (opts.jobs ?? 1);
    const jobs = w ? 1 : Math.min(asked, unitsIn(opts.shard, units));
    // A job's records name their shard's plan, not the job's: merge counts per shard.
    const shardPlanned = w ? w.shardPlanned : plan.planned;

    const summary: RunSummary = { file: outFile, completed: 0, errored: 0, skipped: 0, kept: finished.size, ...(movedAside ? { movedAside } : {}) };
    const ctx: RunContext = {
      suite,
      suiteRef,
      settings: new Map(plan.settings.map((s) => [s.id, s])),
      prompts: new Map(prompts.map((p) => [p.id, p])),
      promptIds: prompts.map((p) => p.id),
      baseModel,
      baseFile,
      models,
      profile: opts.profile ?? recordProfile(detectFingerprint()),
      capture: !opts.capture
        ? null
        : w
          ? { encoding: opts.capture, append: (id, hashes, rows) => w.capture(id, [...hashes], rows) }
          : new CaptureWriter(captureFileFor(outFile), opts.capture),
      emit: (record) => {
        if (w) w.record(record);
        else writer!.append(record);
        summary[record.status]++;
        if (record.status === 'completed' && record.runner.id === referenceId && record.mode === 'free') {
          ctx.referenceRecords.set(record.id, record);
        }
        opts.onEvent?.({ kind: 'record', record });
      },
      referenceRecords: new Map(),
      referenceId,
      hub: hubProvenance(source),
      shard: opts.shard ? { ...opts.shard, planned: shardPlanned } : null,
      parallelJobs: w ? w.job.count : 1,
    };
    for (const r of existing) {
      if (r.status === 'completed' && r.runner.id === referenceId && r.mode === 'free') ctx.referenceRecords.set(r.id, r);
    }

    if (jobs > 1) {
      // The workers plan and run; this process writes what they send, in arrival order per job.
      const cap = ctx.capture;
      await runJobs(
        {
          suiteFile: opts.suiteFile,
          runners: opts.runners.module,
          ...(opts.shard ? { shard: opts.shard } : {}),
          ...(opts.onlyRunners ? { onlyRunners: opts.onlyRunners } : {}),
          ...(opts.capture ? { capture: opts.capture } : {}),
          profile: ctx.profile,
          finished: [...finished],
          references: [...ctx.referenceRecords.values()],
          shardPlanned,
        },
        jobs,
        {
          start: (total, alreadyDone) => opts.onEvent?.({ kind: 'start', total, alreadyDone }),
          runner: (runnerId, message) => opts.onEvent?.({ kind: 'runner', runnerId, message }),
          capture: (id, hashes, rows) => cap?.append(id, hashes, rows),
          record: (record) => ctx.emit(record),
        },
      );
      return summary;
    }
    opts.onEvent?.({ kind: 'start', total: plan.total, alreadyDone: finished.size });
    for (const { runner, free, forced } of plan.work) {
      opts.onEvent?.({ kind: 'runner', runnerId: runner.id, message: `${free.length + forced.length} cells` });
      await runRunner(ctx, runner, free, forced);
    }
    return summary;
  } finally {
    await lock?.release();
  }
}
