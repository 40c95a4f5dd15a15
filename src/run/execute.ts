import { existsSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { DetbenchError, errorCode, errorMessage } from '../errors.ts';
import { makeDirs } from '../fs-dirs.ts';
import { detectFingerprint, type Fingerprint } from '../env/fingerprint.ts';
import { recordProfile } from '../env/profile.ts';
import { loadModel } from '../model/load.ts';
import type { LoadedModel } from '../model/types.ts';
import type { CaptureEncoding, CapturedRows } from '../decode/capture.ts';
import { CaptureWriter, captureFileFor } from '../results/capture.ts';
import { completedRecord, erroredRecord, modelFacts, recordCommon, skippedRecord } from '../results/build.ts';
import { lockResults } from '../results/lock.ts';
import type { CompletedRecord, RecordCommon, ResultRecord } from '../results/record.ts';
import { isRecordRunnerType, type RecordRunnerType } from '../results/schema.ts';
import { ResultsWriter } from '../results/write.ts';
import type { RunnerList } from '../runner-contract/manifest.ts';
import type { GenerationRequest, Runner, RunnerSession } from '../runner-contract/types.ts';
import { cellId, expandCells, expandRunners, expandSettings, type Cell, type RunnerConfig, type Setting } from '../suite/expand.ts';
import { checkCellCount, countCells, DEFAULT_MAX_CELLS } from '../suite/count.ts';
import { suiteHash } from '../suite/hash.ts';
import { atSuiteLine, loadSuite, suiteError, type LoadedSuite } from '../suite/load.ts';
import { DETBENCH_VERSION } from '../version.ts';
import type { HubProgress } from '../model/hub/fetch-watch.ts';
import type { HubProvenance } from '../model/hub/snapshot.ts';
import { probeSession } from '../probe/probe.ts';
import { probePrompts, probeTolerance } from '../probe/prompts.ts';
import { planBatches } from './batches.ts';
import { autoJobs, runJobs } from './jobs.ts';
import { generateBatch } from '../runner-contract/generate-batch.ts';
import { loadRunnerModels, modelKey } from './models.ts';
import { fetchRunnerFiles, hubProvenance, openModelSource } from './model-source.ts';
import { inShard, unitsIn, type Shard } from './shard.ts';
import { preparePrompts, type PreparedPrompt } from './prompts.ts';
import { readForResume } from './resume.ts';

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

/** Everything the run needs that stays fixed across cells. */
interface RunContext {
  suite: LoadedSuite;
  /** The suite as records name it: id, file and suite hash. */
  suiteRef: { id: string; file: string; hash: string };
  settings: Map<string, Setting>;
  prompts: Map<string, PreparedPrompt>;
  promptIds: string[];
  baseModel: LoadedModel | undefined;
  /** The model of each runner option set ({@link modelKey}), loaded before the run. */
  models: Map<string, LoadedModel>;
  profile: { id: string; fingerprint: Fingerprint };
  /** The capture sidecar (or, in a `--jobs` worker, the parent), when the run captures full rows. */
  capture: Pick<CaptureWriter, 'encoding' | 'append'> | null;
  emit: (record: ResultRecord) => void;
  /** Completed free-running records of the reference runner, by id (for teacher forcing). */
  referenceRecords: Map<string, CompletedRecord>;
  referenceId: string;
  /** Where a Hub model came from (repo, revision, commit); undefined for a local folder. */
  hub: HubProvenance | undefined;
  /** The shard, with the number of records it plans; recorded in every record. */
  shard: { index: number; count: number; planned: number } | null;
  /** Worker processes running beside each other (`--jobs`); recorded in completed records' environment when > 1. */
  parallelJobs: number;
}

/**
 * Runs a suite: every cell becomes exactly one record, appended to the results file as it
 * finishes. Configuration problems throw DetbenchError before any record is written; failures
 * of one runner or one cell become `errored` or `skipped` records and the run goes on.
 */
export async function runSuite(opts: RunOptions): Promise<RunSummary> {
  const suite = loadSuite(opts.suiteFile, opts.runners);
  suite.runners.forEach((r, i) => {
    // A runner the record contract does not name could write records no reader accepts.
    if (!isRecordRunnerType(r.type)) {
      throw suiteError('SUITE_INVALID', suite.at(['runners', i, 'type']), `runner type "${r.type}" is not one the record contract names (RECORD_RUNNER_TYPES in src/results/schema.ts), so its records could not be read back`);
    }
  });
  checkCellCount(suite, countCells(suite, opts.onlyRunners), opts.maxCells ?? DEFAULT_MAX_CELLS);
  const settingList = expandSettings(suite);
  const allRunners = expandRunners(suite);
  let runners = [...allRunners];
  if (opts.onlyRunners?.length) {
    const unknown = opts.onlyRunners.filter((id) => !allRunners.some((r) => namesRunner(id, r.id)));
    if (unknown.length) {
      throw new DetbenchError('UNKNOWN_RUNNER', `--runner ${unknown.join(', ')}: no such runner in ${opts.suiteFile} (has ${allRunners.map((r) => r.id).join(', ')})`);
    }
    runners = allRunners.filter((r) => opts.onlyRunners!.some((id) => namesRunner(id, r.id)));
  }
  const refName = suite.reference ?? allRunners[0]!.id;
  const referenceId = allRunners.find((r) => namesRunner(refName, r.id))!.id;
  // The reference runs first: teacher forcing feeds its tokens to the others.
  runners.sort((a, b) => Number(b.id === referenceId) - Number(a.id === referenceId));

  const local = runners.filter((r) => r.manifest.needsModel);
  if (local.length && !suite.model) {
    throw suiteError('SUITE_INVALID', suite.at(['model']), `required by local runners (${local.map((r) => r.id).join(', ')}); expected a model folder (model: path) or remote-api runners only`);
  }
  const source = await openModelSource(suite, opts.onEvent && ((p) => opts.onEvent!({ kind: 'download', ...p })));
  const modelDir = source?.dir;
  const baseFile = source?.baseFile;
  // A Hub model fetches every ONNX file its runners name first (a local folder has them already).
  const localOptions = local.map((r) => r.manifest.modelChoice(r.options));
  await fetchRunnerFiles(source, localOptions);
  const modelAt = suite.at(suite.model?.file ? ['model', 'file'] : ['model']);
  const atModel = (err: unknown) => {
    throw atSuiteLine(err, modelAt);
  };
  const baseModel = modelDir ? await loadModel(modelDir, baseFile ? { onnxFile: baseFile } : {}).catch(atModel) : undefined;
  // Every runner's model file is loaded and checked before any record: a precision whose file is
  // missing, or a graph detbench cannot feed, is a suite error (exit 2), never an errored cell.
  const models = modelDir && baseModel ? await loadRunnerModels(modelDir, baseModel, baseFile, localOptions).catch(atModel) : new Map<string, LoadedModel>();
  const prompts = preparePrompts(suite, baseModel);
  const units = prompts.length * settingList.length;
  if (opts.shard && opts.shard.count > units) {
    // An empty shard would write no record, so nothing could tell it from a missing one.
    throw new DetbenchError('SHARD_INVALID', `--shard ${opts.shard.index}/${opts.shard.count}: ${suite.file} has ${units} prompt × setting unit(s), so at most ${units} shard(s)`);
  }

  const w = opts.worker;
  const outFile = w ? '' : resolve(opts.outFile);
  const warn = opts.warn ?? (() => {});
  const suiteRef = { id: suite.id, file: relative(process.cwd(), suite.file), hash: suiteHash(suite) };
  // A --jobs worker writes no file: its parent holds the lock and writes what the workers send.
  if (!w) makeOutputDir(outFile);
  const lock = w ? null : await lockResults(outFile, warn);
  try {
    const movedAside = !w && opts.fresh ? moveAside(outFile) : undefined;
    if (!w) refuseOverwrite(outFile, opts.resume ?? false);
    const side = captureFileFor(outFile);
    if (!w && !opts.resume && existsSync(side) && statSync(side).size > 0) {
      throw new DetbenchError('OUTPUT_EXISTS', `${side}: a capture file of earlier results exists; pass --fresh to move it aside, or choose another -o`, { file: side });
    }
    const existing: ResultRecord[] = w ? w.references : opts.resume && existsSync(outFile) ? readForResume(outFile, suiteRef, warn) : [];
    const writer = w ? null : new ResultsWriter(outFile, warn);
    const finished = new Set(w ? w.finished : existing.filter((r) => r.status !== 'errored').map((r) => r.id));
    const asked = opts.jobs === 'auto' ? autoJobs(runners) : (opts.jobs ?? 1);
    const jobs = w ? 1 : Math.min(asked, unitsIn(opts.shard, units));

    const summary: RunSummary = { file: outFile, completed: 0, errored: 0, skipped: 0, kept: finished.size, ...(movedAside ? { movedAside } : {}) };
    const ctx: RunContext = {
      suite,
      suiteRef,
      settings: new Map(settingList.map((s) => [s.id, s])),
      prompts: new Map(prompts.map((p) => [p.id, p])),
      promptIds: prompts.map((p) => p.id),
      baseModel,
      models,
      profile: opts.profile ?? recordProfile(detectFingerprint()),
      capture: !opts.capture ? null : w ? { encoding: opts.capture, append: (id, hashes, rows) => w.capture(id, [...hashes], rows) } : new CaptureWriter(captureFileFor(outFile), opts.capture),
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
      shard: null,
      parallelJobs: w ? w.job.count : 1,
    };
    for (const r of existing) {
      if (r.status === 'completed' && r.runner.id === referenceId && r.mode === 'free') ctx.referenceRecords.set(r.id, r);
    }

    const promptIdList = prompts.map((p) => p.id);
    const settingIdList = settingList.map((s) => s.id);
    const teacher = suite.teacher_forcing && allRunners.length > 1;
    const forcedIds = new Set(runners.filter((r) => r.manifest.canTeacherForce).map((r) => r.id));
    const plan = (job?: Shard) => {
      const keep = opts.shard || job ? inShard(opts.shard, promptIdList, settingIdList, job) : () => true;
      const cells = expandCells(suite, runners, settingList).filter(keep);
      return { cells, tfCount: teacher ? cells.filter((c) => c.runnerId !== referenceId && forcedIds.has(c.runnerId)).length : 0 };
    };
    const shardPlan = plan();
    const shardPlanned = w ? w.shardPlanned : shardPlan.cells.length + shardPlan.tfCount;
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
    const { cells: allCells, tfCount } = w ? plan(w.job) : shardPlan;
    opts.onEvent?.({ kind: 'start', total: allCells.length + tfCount, alreadyDone: finished.size });
    // A job's records name their shard's plan, not the job's: merge counts per shard.
    if (opts.shard) ctx.shard = { ...opts.shard, planned: shardPlanned };

    for (const runner of runners) {
      const cells = allCells.filter((c) => c.runnerId === runner.id);
      const free = cells.filter((c) => !finished.has(c.id));
      // Only some runners can be fed tokens: a remote API decides its own continuation.
      const forced = teacher && runner.id !== referenceId && runner.manifest.canTeacherForce ? cells.filter((c) => !finished.has(cellId(suite.id, c, 'teacher-forced'))) : [];
      if (free.length === 0 && forced.length === 0) continue;
      opts.onEvent?.({ kind: 'runner', runnerId: runner.id, message: `${free.length + forced.length} cells` });
      await runRunner(ctx, runner, free, forced, baseFile);
    }
    return summary;
  } finally {
    await lock?.release();
  }
}

/** Whether a suite's runner id names this expanded runner: itself, or one of its matrix entries (`id[k=v]`). */
function namesRunner(name: string, expandedId: string): boolean {
  return expandedId === name || expandedId.startsWith(`${name}[`);
}

/** Creates the output folder; refuses a folder where the results file goes. */
function makeOutputDir(outFile: string): void {
  if (existsSync(outFile) && !statSync(outFile).isFile()) {
    throw new DetbenchError('OUTPUT_UNWRITABLE', `${outFile}: is a folder (or another non-file) where the results file goes; expected a file or nothing there, or another -o`, { file: outFile });
  }
  try {
    makeDirs(dirname(outFile));
  } catch (cause) {
    throw new DetbenchError('OUTPUT_UNWRITABLE', `${dirname(outFile)}: cannot create output folder (${errorMessage(cause)})`, { cause, file: outFile });
  }
}

/** Refuses to overwrite an earlier run's results (they would be lost). */
function refuseOverwrite(outFile: string, resume: boolean): void {
  if (existsSync(outFile) && statSync(outFile).size > 0 && !resume) {
    throw new DetbenchError('OUTPUT_EXISTS', `${outFile}: results file exists; pass --resume to complete it, --fresh to move it aside, or choose another -o`, { file: outFile });
  }
}

/** Moves an existing results file and its capture sidecar aside (kept, with the time in its name); returns where, if one existed. */
function moveAside(outFile: string): string | undefined {
  const side = captureFileFor(outFile);
  if (!existsSync(outFile) && !existsSync(side)) return undefined;
  const aside = join(dirname(outFile), `${basename(outFile, '.jsonl')}.${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  if (existsSync(outFile)) renameSync(outFile, aside);
  // The sidecar belongs to those results: it moves with them.
  if (existsSync(side)) renameSync(side, captureFileFor(aside));
  return aside;
}

async function runRunner(ctx: RunContext, config: RunnerConfig, free: Cell[], forced: Cell[], baseFile: string | undefined): Promise<void> {
  const all = [...free.map((c) => ({ cell: c, mode: 'free' as const })), ...forced.map((c) => ({ cell: c, mode: 'teacher-forced' as const }))];
  const failAll = (status: 'errored' | 'skipped', code: string, message: string, model: LoadedModel | undefined) => {
    for (const { cell, mode } of all) {
      const common = commonFields(ctx, config, cell, mode, model, null, new Date());
      ctx.emit(status === 'skipped' ? skippedRecord(common, message) : erroredRecord(common, { code, message }));
    }
  };

  let runner: Runner<RunnerConfig['options']>;
  try {
    runner = await config.manifest.load();
  } catch (err) {
    return failAll('errored', 'RUNNER_LOAD_FAILED', `cannot load runner ${config.type}: ${errorMessage(err)}`, ctx.baseModel);
  }
  const probe = await runner.probe(config.options).catch((err: unknown) => ({ available: false as const, reason: errorMessage(err) }));
  if (!probe.available) return failAll('skipped', 'UNAVAILABLE', probe.reason, ctx.baseModel);

  const model = config.manifest.needsModel ? ctx.models.get(modelKey(config.manifest.modelChoice(config.options), baseFile)) : undefined;

  let session: RunnerSession;
  try {
    session = await runner.open(model, config.options);
  } catch (err) {
    return failAll('errored', errorCode(err) === 'RUNTIME_ERROR' ? 'SESSION_FAILED' : errorCode(err), errorMessage(err), model);
  }
  try {
    if (session.provider.requested !== session.provider.effective) {
      return failAll(
        'errored',
        'PROVIDER_MISMATCH',
        `requested execution provider ${session.provider.requested} but the session runs on ${session.provider.effective}`,
        model,
      );
    }
    let probed = session;
    if (ctx.suite.probe && model) {
      // The harness checks itself on this runner before measuring anything with it.
      const report = await probeSession(session, { ...probePrompts(model), tolerance: probeTolerance(model) });
      const facts = report.checks.map(({ id, pass, tokensEqual, steps, bitwiseSteps, maxRelDiff, tolerance }) => ({ id, pass, tokensEqual, steps, bitwiseSteps, maxRelDiff, tolerance }));
      if (!report.pass) {
        const failedChecks = report.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.error ?? (c.tokensEqual ? `relative |Δ logit| ${c.maxRelDiff.toExponential(2)} > ${c.tolerance}` : `tokens differ from step ${c.firstMismatch?.step}`)}`);
        return failAll('errored', 'PROBE_FAILED', `the probe failed on ${config.id} (${failedChecks.join('; ')}): detbench does not measure a model it cannot show it feeds correctly`, model);
      }
      probed = { ...session, environment: { ...session.environment, probe: facts } };
    }
    await runBatches(ctx, config, probed, model, free, 'free');
    await runBatches(ctx, config, probed, model, forced, 'teacher-forced');
  } finally {
    await session.close().catch(() => {});
  }
}


async function runBatches(
  ctx: RunContext,
  config: RunnerConfig,
  session: RunnerSession,
  model: LoadedModel | undefined,
  cells: Cell[],
  mode: 'free' | 'teacher-forced',
): Promise<void> {
  let runnable = cells;
  if (mode === 'teacher-forced') {
    runnable = [];
    for (const cell of cells) {
      const refId = cellId(ctx.suite.id, { ...cell, runnerId: ctx.referenceId });
      const ref = ctx.referenceRecords.get(refId);
      if (ref && ref.tokens.length > 0) runnable.push(cell);
      else {
        const common = commonFields(ctx, config, cell, mode, model, refId, new Date());
        const reason = ref
          ? `reference record ${refId} has no token ids (a remote runner), so there is nothing to feed`
          : `reference record ${refId} did not complete, so there is nothing to feed`;
        ctx.emit(skippedRecord(common, reason));
      }
    }
  }
  for (const batch of planBatches(runnable, ctx.promptIds)) {
    const first = batch.cells[0]!;
    const setting = ctx.settings.get(first.settingId)!;
    const requests = batch.rowPrompts.map((promptId, row): GenerationRequest => {
      const prompt = ctx.prompts.get(promptId)!;
      const cell = batch.cells[row];
      const teacher =
        mode === 'teacher-forced' && cell
          ? ctx.referenceRecords.get(cellId(ctx.suite.id, { ...cell, runnerId: ctx.referenceId }))!.tokens
          : undefined;
      return {
        promptIds: prompt.ids,
        promptText: prompt.rendered,
        ...(prompt.system ? { system: prompt.system } : {}),
        maxNewTokens: ctx.suite.max_new_tokens,
        sampling: setting.sampling,
        stopIds: model?.config.eosTokenIds ?? [],
        topK: ctx.suite.top_logprobs,
        ...(teacher ? { teacherTokens: teacher } : {}),
        ...(ctx.capture && config.manifest.needsModel ? { capture: ctx.capture.encoding } : {}),
      };
    });
    const startedAt = new Date();
    const outcomes = await generateBatch(session, requests);
    batch.cells.forEach((cell, row) => {
      const refId = mode === 'teacher-forced' ? cellId(ctx.suite.id, { ...cell, runnerId: ctx.referenceId }) : null;
      const common = commonFields(ctx, config, cell, mode, model, refId, startedAt, session.runtimeVersion);
      if (session.model) common.model = session.model;
      const outcome = outcomes[row] ?? { status: 'errored', error: { code: 'RUNNER_PROTOCOL', message: `runner returned no outcome for row ${row}` } };
      if (outcome.status === 'errored') {
        ctx.emit(erroredRecord(common, outcome.error));
        return;
      }
      const g = outcome.generation;
      if (ctx.capture && config.manifest.needsModel) {
        // Asked for and not returned: refuse the record rather than leave its KL to a silent top-k bound.
        if (!g.capture) {
          ctx.emit(erroredRecord(common, { code: 'CAPTURE_MISSING', message: `runner ${config.type} returned no captured rows` }));
          return;
        }
        ctx.capture.append(common.id, g.steps.hash, g.capture);
      }
      const prompt = ctx.prompts.get(cell.promptId)!;
      const tok = model?.tokenizer ?? ctx.baseModel?.tokenizer;
      ctx.emit(
        completedRecord(common, {
        provider: session.provider,
        // Latency under parallel load is not latency alone: the report marks it.
        environment: ctx.parallelJobs > 1 ? { ...session.environment, parallelJobs: ctx.parallelJobs } : session.environment,
        promptTokens: prompt.ids,
        tokens: g.tokens,
        tokenTexts: g.tokenTexts ?? (tok ? g.tokens.map((id) => tok.tokenText(id)) : []),
        text: g.text ?? (tok ? tok.decode(g.tokens) : ''),
        steps: g.steps,
        finishReason: g.finishReason,
        timings: { ...g.timings, sessionMs: session.sessionMs },
        batch: g.batch,
        ...(g.extra ? { extra: g.extra } : {}),
        }),
      );
    });
  }
}

/** The record's runner type; `runSuite` refused every other type before the first record. */
function recordRunnerType(type: string): RecordRunnerType {
  if (!isRecordRunnerType(type)) throw new Error(`runner type ${type} is not in the record contract`);
  return type;
}

function commonFields(
  ctx: RunContext,
  config: RunnerConfig,
  cell: Cell,
  mode: 'free' | 'teacher-forced',
  model: LoadedModel | undefined,
  referenceId: string | null,
  startedAt: Date,
  runtimeVersion: string | null = null,
): RecordCommon {
  const setting = ctx.settings.get(cell.settingId)!;
  const prompt = ctx.prompts.get(cell.promptId)!;
  return recordCommon({
    id: cellId(ctx.suite.id, cell, mode),
    suite: ctx.suiteRef,
    prompt: { id: prompt.id, text: prompt.text, ...(prompt.rendered !== prompt.text ? { rendered: prompt.rendered } : {}) },
    setting: { id: setting.id, sampling: setting.sampling, maxNewTokens: ctx.suite.max_new_tokens },
    runner: { id: config.id, type: recordRunnerType(config.type), options: config.options },
    repetition: cell.repetition,
    batchSize: cell.batchSize,
    mode,
    ...(referenceId ? { referenceId } : {}),
    // A Hub model's folder is named by its commit: the repo id is its name.
    model: model ? { ...modelFacts(model), ...(ctx.hub ? { name: ctx.hub.repo, hub: ctx.hub } : {}) } : null,
    tool: { detbench: DETBENCH_VERSION, onnxruntime: runtimeVersion, node: process.versions.node },
    profile: ctx.profile,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    ...(ctx.shard ? { shard: ctx.shard } : {}),
  });
}
