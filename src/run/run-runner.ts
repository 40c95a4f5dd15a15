import type { Fingerprint } from '../env/fingerprint.ts';
import { errorCode, errorMessage } from '../errors.ts';
import type { HubProvenance } from '../model/hub/snapshot.ts';
import type { LoadedModel } from '../model/types.ts';
import { probeSession } from '../probe/probe.ts';
import { probePrompts, probeTolerance } from '../probe/prompts.ts';
import { completedRecord, erroredRecord, modelFacts, recordCommon, skippedRecord } from '../results/build.ts';
import type { CaptureWriter } from '../results/capture.ts';
import type { CompletedRecord, RecordCommon, ResultRecord } from '../results/record.ts';
import { isRecordRunnerType, type RecordRunnerType } from '../results/schema.ts';
import { generateBatch } from '../runner-contract/generate-batch.ts';
import type { GenerationRequest, Runner, RunnerSession } from '../runner-contract/types.ts';
import { type Cell, cellId, type RunnerConfig, type Setting } from '../suite/expand.ts';
import type { LoadedSuite } from '../suite/load.ts';
import { DETBENCH_VERSION } from '../version.ts';
import { planBatches } from './batches.ts';
import { modelKey } from './models.ts';
import type { PreparedPrompt } from './prompts.ts';

/** Everything the run needs that stays fixed across cells. */
export interface RunContext {
  suite: LoadedSuite;
  /** The suite as records name it: id, file and suite hash. */
  suiteRef: { id: string; file: string; hash: string };
  settings: Map<string, Setting>;
  prompts: Map<string, PreparedPrompt>;
  promptIds: string[];
  baseModel: LoadedModel | undefined;
  /** The suite's `model.file`, if it names one: the file of runners whose options choose none. */
  baseFile: string | undefined;
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
 * One runner's part of a run: load it, probe it, open a session (on the model of its precision),
 * check the session (provider, the harness's own probe), run its batches and turn each row into a
 * record. Whatever fails here becomes `skipped` or `errored` records; the run goes on.
 */
export async function runRunner(ctx: RunContext, config: RunnerConfig, free: Cell[], forced: Cell[]): Promise<void> {
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

  const model = config.manifest.needsModel ? ctx.models.get(modelKey(config.manifest.modelChoice(config.options), ctx.baseFile)) : undefined;

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
      const facts = report.checks.map(({ id, pass, tokensEqual, steps, bitwiseSteps, maxRelDiff, tolerance }) => ({
        id,
        pass,
        tokensEqual,
        steps,
        bitwiseSteps,
        maxRelDiff,
        tolerance,
      }));
      if (!report.pass) {
        const failedChecks = report.checks
          .filter((c) => !c.pass)
          .map(
            (c) =>
              `${c.id}: ${c.error ?? (c.tokensEqual ? `relative |Δ logit| ${c.maxRelDiff.toExponential(2)} > ${c.tolerance}` : `tokens differ from step ${c.firstMismatch?.step}`)}`,
          );
        return failAll(
          'errored',
          'PROBE_FAILED',
          `the probe failed on ${config.id} (${failedChecks.join('; ')}): detbench does not measure a model it cannot show it feeds correctly`,
          model,
        );
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
        mode === 'teacher-forced' && cell ? ctx.referenceRecords.get(cellId(ctx.suite.id, { ...cell, runnerId: ctx.referenceId }))!.tokens : undefined;
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
