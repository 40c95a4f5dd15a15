import type { ExtraInput, IntType, Padding } from '../decode/types.ts';
import type { OnnxGraphIO } from './onnx-io.ts';
import type { PrecisionFacts } from './precision.ts';

/** Architecture facts of a decoder-only model, normalized from its config.json. */
export interface ModelConfig {
  /** config.json `model_type` (gpt2, llama, qwen2, ...). */
  modelType: string;
  numLayers: number;
  numHeads: number;
  /** Heads of the KV cache (fewer than numHeads under grouped-query attention). */
  numKvHeads: number;
  headDim: number;
  hiddenSize: number;
  /** Rows of the embedding table, which may exceed the tokenizer's token count (padding). */
  vocabSize: number;
  /** Context length the model was trained for. */
  maxPositions: number;
  bosTokenId?: number;
  /** Every token that ends generation (config.json and generation_config.json together). */
  eosTokenIds: number[];
  padTokenId?: number;
}

/** The graph inputs and outputs detbench feeds and reads, found in the ONNX file. */
export interface ModelIO {
  inputNames: string[];
  outputNames: string[];
  hasPositionIds: boolean;
  /** `past_key_values.{i}.key` (or the graph's own family) for each layer i, in layer order; likewise below. Combined layout: the one tensor per layer, and no value names. */
  pastKeyNames: string[];
  pastValueNames: string[];
  presentKeyNames: string[];
  presentValueNames: string[];
  cacheLayout: 'separate' | 'combined';
  /** Integer types the graph declares for the id, mask and position inputs it has. */
  inputTypes: { input_ids?: IntType; attention_mask?: IntType; position_ids?: IntType };
  /** Extra inputs of known meaning (num_logits_to_keep, use_cache_branch). */
  extraInputs: ExtraInput[];
  kvType: 'float32' | 'float16';
  logitsType: 'float32' | 'float16';
  /** How a batch of prompts of different lengths is padded for this graph, and why. */
  padding: Padding;
  paddingReason: string;
}

/** Cache input/output name templates (`%d` is the layer); no value names: one combined tensor per layer. */
export interface CacheTemplates {
  pastKey: string;
  pastValue?: string;
  presentKey: string;
  presentValue?: string;
}

/** A value the configuration gave and the graph corrected (the graph wins). */
export interface Override {
  /** The configuration field, as the file names it. */
  field: string;
  config: unknown;
  graph: unknown;
  note: string;
}

/** Where one fact of the model description was read. */
export interface SourceNote {
  fact: string;
  from: string;
}

/** Text to token ids and back. */
export interface TextTokenizer {
  /** Ids of `text` as the model sees it (no special tokens added). */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: readonly number[]): string;
  /** The decoded text of one token, for display (may be a partial UTF-8 character). */
  tokenText(id: number): string;
  /** One past the highest token id, added tokens included. */
  vocabSize: number;
}

/** Which layout a model folder is in. */
export type ModelLayout = 'hf' | 'genai';

/** A validated model folder (Hugging Face / transformers.js or ONNX Runtime GenAI layout), ready to open in a runner. */
export interface LoadedModel {
  /** `hf`: config.json + onnx/model*.onnx; `genai`: genai_config.json naming the decoder file. */
  layout: ModelLayout;
  /** What each fact of this description was read from. */
  sources: SourceNote[];
  /** Where the configuration and the graph disagree: the graph's value is used. */
  overrides: Override[];
  /** Accepted quirks worth a line in `detbench inspect` (a tokenizer larger than the logits, ...). */
  notes: string[];
  /** Weight and compute types actually in the graph. */
  precision: PrecisionFacts;
  /** The dtype name that chose the file (precision option or transformers.js_config.dtype), if one did. */
  dtype?: string;
  /** Special tokens by name (bos_token, eos_token, ...), as chat templates are rendered with them. */
  specialTokens: Record<string, string>;
  /** The graph's declared inputs and outputs (weights excluded) and the operators it uses. */
  graph: Pick<OnnxGraphIO, 'inputs' | 'outputs' | 'ops' | 'opsets'>;
  /** The model folder, as given. */
  dir: string;
  /** The folder's base name. */
  name: string;
  /** The ONNX file, relative to `dir` (e.g. `onnx/model.onnx`). */
  onnxFile: string;
  /** The ONNX file's full path. */
  onnxPath: string;
  /**
   * Hex SHA-256 of the ONNX file, then of its external-data files in the order the graph names
   * them (one digest over those bytes in that order); for a single-file model, the file's own.
   */
  sha256: string;
  /** Bytes of the ONNX file and its external-data files. */
  sizeBytes: number;
  /** External-data files, as the graph names them: relative to the ONNX file's folder. */
  externalData: string[];
  config: ModelConfig;
  io: ModelIO;
  tokenizer: TextTokenizer;
  /** tokenizer_config.json `chat_template` (the default one when several are named). */
  chatTemplate?: string;
}
