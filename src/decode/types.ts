import type { CapturedRows, CaptureEncoding } from './capture.ts';
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
  type: 'int64' | 'int32' | 'bool' | 'float32' | 'float16',
  data: BigInt64Array | Int32Array | Uint8Array | Float32Array | Uint16Array,
  dims: readonly number[],
) => TensorLike;

/** Integer element type of an id, mask or position input, as the graph declares it. */
export type IntType = 'int64' | 'int32';

/**
 * How prompts of different lengths share one batch. `left`: pads before each prompt, masked out
 * (attention that reads the mask per position). `right`: pads after each prompt, the mask a
 * prefix of ones whose sum is the row's length: com.microsoft GroupQueryAttention reads only
 * that sum (seqlens_k) and keeps each row's cache packed at the front, so left padding would put
 * the pads inside the row (wrong positions, pads attended).
 */
export type Padding = 'left' | 'right';

/** A graph input detbench feeds beyond ids, mask, positions and cache, by what it means. */
export interface ExtraInput {
  name: string;
  /** `logits_to_keep` (also `num_logits_to_keep`): how many final positions get logits. `use_cache_branch`: merged decoders' branch switch. */
  kind: 'logits_to_keep' | 'use_cache_branch';
  /** Element type the graph declares. */
  type: string;
}

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
  /** Token fed at padding positions (masked out, so any valid id works). */
  padTokenId: number;
  /** Default `left`. */
  padding?: Padding;
  /** Integer types of input_ids, attention_mask and position_ids; default int64. */
  inputTypes?: { input_ids?: IntType; attention_mask?: IntType; position_ids?: IntType };
  /**
   * `separate` (default): a key and a value tensor per layer, [batch, kv_heads, seq, head_dim].
   * `combined`: one tensor per layer, [2, batch, kv_heads, seq, head_dim] (the older ONNX Runtime
   * GPT-2 interface, `past_N`/`present_N`); then pastKey/presentKey name it and the value names are unused.
   */
  cacheLayout?: 'separate' | 'combined';
  /** Extra inputs fed each pass (see {@link ExtraInput}). */
  extraInputs?: readonly ExtraInput[];
  /**
   * Optional: summarises rows elsewhere (a worker thread), off the loop's critical path. Unset,
   * the loop calls `summarizeRow` in line. Either way the records are the same.
   */
  recorder?: StepRecorder;
  /**
   * Optional: frees an output buffer the loop will not read again (each step's logits, the cache
   * it replaced) at once, instead of at the collector's next pass. onnxruntime-node returns every
   * output in a new ArrayBuffer; left to V8, that external memory makes it collect over and over
   * (src/serve/release.ts). The host supplies how (Node: detach the buffer).
   */
  release?: (data: ArrayBufferView) => void;
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
  /**
   * Queues one row (copied before this returns, so the caller may reuse its buffer), or, when the
   * recorder is behind, summarises it at once and returns the summary (which {@link drain} returns
   * too, in its place).
   */
  push(row: Float32Array, topK: number): RowSummary | undefined;
  /** The summaries of every row queued since the last drain, in push order. */
  drain(): Promise<RowSummary[]>;
}
