/**
 * The one builder of records: the executor and the synthetic-results generator assemble every
 * record here. Each field is copied by name, in the order the file keeps (the lean reader relies on
 * `topLogprobs` following `topLogits`), so whatever else a runner's result carries stays out of the
 * file until `schema.ts` and this file say otherwise.
 */
import type { LoadedModel } from '../model/types.ts';
import { type CompletedRecord, type ErroredRecord, type RecordCommon, SCHEMA_VERSION, type SkippedRecord } from './record.ts';

/** What every record says about its cell, besides the version (which the builder sets). */
export type CommonInput = Omit<RecordCommon, 'schemaVersion'>;

/** What a completed record adds. */
export type CompletedInput = Omit<CompletedRecord, keyof RecordCommon | 'status'>;

/** The fields every record carries, whatever its status. */
export function recordCommon(c: CommonInput): RecordCommon {
  return {
    schemaVersion: SCHEMA_VERSION,
    id: c.id,
    suite: { id: c.suite.id, file: c.suite.file, ...(c.suite.hash !== undefined ? { hash: c.suite.hash } : {}) },
    prompt: { id: c.prompt.id, text: c.prompt.text, ...(c.prompt.rendered !== undefined ? { rendered: c.prompt.rendered } : {}) },
    setting: { id: c.setting.id, sampling: c.setting.sampling, maxNewTokens: c.setting.maxNewTokens },
    runner: { id: c.runner.id, type: c.runner.type, options: c.runner.options },
    repetition: c.repetition,
    batchSize: c.batchSize,
    mode: c.mode,
    ...(c.referenceId !== undefined ? { referenceId: c.referenceId } : {}),
    model: c.model
      ? {
          name: c.model.name,
          file: c.model.file,
          sha256: c.model.sha256,
          ...(c.model.layout !== undefined ? { layout: c.model.layout } : {}),
          ...(c.model.dtype !== undefined ? { dtype: c.model.dtype } : {}),
          ...(c.model.precision !== undefined ? { precision: c.model.precision } : {}),
          ...(c.model.overrides !== undefined ? { overrides: c.model.overrides } : {}),
          ...(c.model.padding !== undefined ? { padding: c.model.padding } : {}),
          ...(c.model.hub ? { hub: { repo: c.model.hub.repo, revision: c.model.hub.revision, commit: c.model.hub.commit, offline: c.model.hub.offline } } : {}),
        }
      : null,
    tool: { detbench: c.tool.detbench, onnxruntime: c.tool.onnxruntime, node: c.tool.node },
    profile: { id: c.profile.id, fingerprint: c.profile.fingerprint },
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
    ...(c.shard !== undefined ? { shard: { index: c.shard.index, count: c.shard.count, planned: c.shard.planned } } : {}),
  };
}

/** A record's `model`: which file, and the facts read from its graph. */
export type ModelFacts = NonNullable<RecordCommon['model']>;

/** The record's `model` of a loaded model. */
export function modelFacts(model: LoadedModel): ModelFacts {
  const p = model.precision;
  return {
    name: model.name,
    file: model.onnxFile,
    sha256: model.sha256,
    layout: model.layout,
    ...(model.dtype !== undefined ? { dtype: model.dtype } : {}),
    precision: {
      summary: p.summary,
      compute: p.compute,
      logits: p.logits,
      quantized: p.quantized.map((q) => ({ op: q.op, nodes: q.nodes, bits: q.bits, ...(q.blockSize !== undefined ? { blockSize: q.blockSize } : {}) })),
    },
    ...(model.overrides.length > 0 ? { overrides: model.overrides.map(({ field, config, graph }) => ({ field, config, graph })) } : {}),
    padding: model.io.padding,
  };
}

/** A completed record. */
export function completedRecord(common: RecordCommon, f: CompletedInput): CompletedRecord {
  const s = f.steps;
  return {
    ...common,
    status: 'completed',
    provider: { requested: f.provider.requested, effective: f.provider.effective },
    environment: f.environment,
    promptTokens: f.promptTokens,
    tokens: f.tokens,
    tokenTexts: f.tokenTexts,
    text: f.text,
    steps: {
      token: s.token,
      ...(s.forced !== undefined ? { forced: s.forced } : {}),
      topIds: s.topIds,
      topLogits: s.topLogits,
      topLogprobs: s.topLogprobs,
      margin: s.margin,
      hash: s.hash,
      ...(s.draw !== undefined ? { draw: s.draw } : {}),
      ...(s.topTokens !== undefined ? { topTokens: s.topTokens } : {}),
    },
    finishReason: f.finishReason,
    timings: {
      ttftMs: f.timings.ttftMs,
      stepMs: f.timings.stepMs,
      tokensPerSecond: f.timings.tokensPerSecond,
      totalMs: f.timings.totalMs,
      sessionMs: f.timings.sessionMs,
    },
    batch: { size: f.batch.size, index: f.batch.index },
    ...(f.extra !== undefined ? { extra: f.extra } : {}),
  };
}

/** An errored record: the cell ran and failed. */
export function erroredRecord(common: RecordCommon, error: { code: string; message: string }): ErroredRecord {
  return { ...common, status: 'errored', error: { code: error.code, message: error.message } };
}

/** A skipped record: the cell could not run here, for `reason`. */
export function skippedRecord(common: RecordCommon, reason: string): SkippedRecord {
  return { ...common, status: 'skipped', reason };
}
