import type { CaptureEncoding, CapturedRows } from './capture.ts';
import type { RowSummary } from './logits.ts';
import type { Sampling } from './sampling.ts';

/** The part of an onnxruntime Tensor the loop uses (onnxruntime-node and -web both satisfy it). */
export interface TensorLike {
  readonly dims: readonly number[];
  readonly type: string;
  readonly data: unknown;
  /** 'cpu' or a device location ('gpu-buffer', 'ml-tensor', ...). */
  readonly location?: string;
  getData?(releaseData?: boolean): Promise<unknown>;
  dispose?(): void;
}

/** The part of an onnxruntime InferenceSession the loop uses. */
export interface SessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, TensorLike>): Promise<Record<string, TensorLike>>;
}

/** Creates a tensor with the runtime's own Tensor class (ort.Tensor differs between node and web). */
export type MakeTensor = (
  type: 'int64' | 'float32' | 'float16',
  data: BigInt64Array | Float32Array | Uint16Array,
  dims: readonly number[],
) => TensorLike;

/** What the loop needs to know about a model graph; the runner fills it from the model and session. */
export interface DecodeModel {
  session: SessionLike;
  makeTensor: MakeTensor;
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  /** Element type of past_key_values inputs. */
  kvType: 'float32' | 'float16';
  hasPositionIds: boolean;
  /** Token fed at left-padding positions (masked out, so any valid id works). */
  padTokenId: number;
  /**
   * Optional: summarises rows elsewhere (a worker thread), off the loop's critical path. Unset,
   * the loop calls `summarizeRow` in line. Either way the records are the same.
   */
  recorder?: StepRecorder;
  /** Input/output name of layer i's key and value cache. */
  pastKey(i: number): string;
  pastValue(i: number): string;
  presentKey(i: number): string;
  presentValue(i: number): string;
}

/** One sequence to decode. Requests in one `decode` call share every forward pass (one batch). */
export interface DecodeRequest {
  promptIds: readonly number[];
  maxNewTokens: number;
  sampling: Sampling;
  /** Generation stops after one of these is chosen (it is kept in `tokens`). */
  stopIds: readonly number[];
  /** How many top candidates to record per step. */
  topK: number;
  /**
   * Teacher forcing: feed these tokens instead of the model's own choices, for exactly
   * `teacherTokens.length` steps; `tokens` then holds what the model would have chosen.
   */
  teacherTokens?: readonly number[];
  /** Also return every step's full row in this encoding (see `capture.ts`). */
  capture?: CaptureEncoding;
}

/** Per-step data, stored column-wise (one entry per generated position) to keep records compact. */
export interface StepTrace {
  /** The token the model chose at each step (in teacher-forced mode: chose, not was fed). */
  token: number[];
  /** Teacher-forced mode only: the token that was fed at each step. */
  forced?: number[];
  topIds: number[][];
  topLogits: number[][];
  topLogprobs: number[][];
  margin: number[];
  hash: string[];
  /**
   * Local runners: the uniform draw (`random()`, in [0, 1)) each sampled step consumed, null where
   * nothing was drawn (greedy). With the logits it replays the step: `sampleWithDraw(row, sampling, draw)`.
   */
  draw?: (number | null)[];
}

export interface DecodeResult {
  /** Generated ids (free run), or the model's choices under teacher forcing. */
  tokens: number[];
  steps: StepTrace;
  finishReason: 'stop' | 'length' | 'teacher';
  timings: {
    /** From the start of the prefill run to the first token chosen. */
    ttftMs: number;
    /** Wall time of each step (step 0 includes the prefill). Shared by every request of a batch. */
    stepMs: number[];
    /** Decode throughput excluding the prefill step; null with fewer than two steps. */
    tokensPerSecond: number | null;
    totalMs: number;
  };
  batch: { size: number; index: number };
  /** With `DecodeRequest.capture`: the full log-probabilities of every step. */
  capture?: CapturedRows;
}

/**
 * Takes the per-step recording (what `summarizeRow` computes) off the decode loop's critical
 * path: the loop hands each row over as it goes and collects every summary once at the end.
 */
export interface StepRecorder {
  /** Queues one row (copied before this returns, so the caller may reuse its buffer). */
  push(row: Float32Array, topK: number): void;
  /** The summaries of every row queued since the last drain, in push order. */
  drain(): Promise<RowSummary[]>;
}
