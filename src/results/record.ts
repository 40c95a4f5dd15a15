import type { Sampling } from '../decode/sampling.ts';
import type { DecodeResult, StepTrace } from '../decode/types.ts';
import type { RunnerType } from '../runner/options.ts';
import type { Fingerprint } from '../env/fingerprint.ts';
import type { LoadedModel } from '../model/types.ts';

/** Bumped on any incompatible change of the record shape. */
export const SCHEMA_VERSION = 2;

/** A record's `model`: which file, and the facts read from it. */
export interface ModelFacts {
  name: string;
  file: string;
  sha256: string;
  /** `hf` or `genai`. */
  layout?: string;
  /** The dtype name that chose the file (precision option or transformers.js_config.dtype). */
  dtype?: string;
  /** Weight and compute types in the graph: summary (`fp32`, `q4 (MatMulNBits 4-bit, block 16), fp32 compute`, ...), compute, quantized ops. */
  precision?: { summary: string; compute: string; logits: string; quantized: { op: string; nodes: number; bits: number; blockSize?: number }[] };
  /** Configuration values the graph corrected. */
  overrides?: { field: string; config: unknown; graph: unknown }[];
  /** How rows of a batch are padded for this graph (`left`, or `right` for GroupQueryAttention). */
  padding?: string;
  /** For a model named by Hub repo id: the repo, the revision asked for and the commit it resolved to. */
  hub?: { repo: string; revision: string; commit: string; offline: boolean };
}

/** The record's `model` of a loaded model. */
export function modelFacts(model: LoadedModel): ModelFacts {
  const p = model.precision;
  return {
    name: model.name,
    file: model.onnxFile,
    sha256: model.sha256,
    layout: model.layout,
    ...(model.dtype !== undefined ? { dtype: model.dtype } : {}),
    precision: { summary: p.summary, compute: p.compute, logits: p.logits, quantized: p.quantized },
    ...(model.overrides.length > 0 ? { overrides: model.overrides.map(({ field, config, graph }) => ({ field, config, graph })) } : {}),
    padding: model.io.padding,
  };
}

/** Fields every record carries, whatever its status. */
export interface RecordCommon {
  schemaVersion: typeof SCHEMA_VERSION;
  /** Unique within a results file: suite/prompt/setting/runner/batch/repetition[/tf]. */
  id: string;
  suite: { id: string; file: string };
  /** `rendered`: the text fed to the tokenizer, when a chat template changed it. */
  prompt: { id: string; text: string; rendered?: string };
  setting: { id: string; sampling: Sampling; maxNewTokens: number };
  runner: { id: string; type: RunnerType; options: Record<string, unknown> };
  repetition: number;
  batchSize: number;
  /** `teacher-forced`: fed the tokens of `referenceId` instead of its own choices. */
  mode: 'free' | 'teacher-forced';
  referenceId?: string;
  /** The model as loaded: what the graph itself says about its precision, and what it corrected in the configuration. */
  model: ModelFacts | null;
  tool: { detbench: string; onnxruntime: string | null; node: string };
  profile: { id: string; fingerprint: Fingerprint };
  startedAt: string;
  finishedAt: string;
  /** Set by `detbench run --shard`: this record's shard, and how many records that shard plans. */
  shard?: { index: number; count: number; planned: number };
}

export interface CompletedFields {
  status: 'completed';
  provider: { requested: string; effective: string };
  /** Runner-reported environment (browser version, adapter info, ORT flags, ...). */
  environment: Record<string, unknown>;
  promptTokens: number[];
  /** Token ids (empty for remote runners, which report `tokenTexts` only). */
  tokens: number[];
  /** The text of each generated token, for display and for comparing runners without shared ids. */
  tokenTexts: string[];
  text: string;
  steps: StepTrace & { topTokens?: string[][] };
  finishReason: DecodeResult['finishReason'];
  timings: DecodeResult['timings'] & { sessionMs: number };
  batch: DecodeResult['batch'];
  extra?: Record<string, unknown>;
}

export interface ErroredFields {
  status: 'errored';
  error: { code: string; message: string };
}

export interface SkippedFields {
  status: 'skipped';
  reason: string;
}

export type CompletedRecord = RecordCommon & CompletedFields;
export type ErroredRecord = RecordCommon & ErroredFields;
export type SkippedRecord = RecordCommon & SkippedFields;

/** One line of a results file. */
export type ResultRecord = CompletedRecord | ErroredRecord | SkippedRecord;
