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
  /** `past_key_values.{i}.key` for each layer i, in layer order; likewise below. */
  pastKeyNames: string[];
  pastValueNames: string[];
  presentKeyNames: string[];
  presentValueNames: string[];
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

/** A validated model folder (Hugging Face / transformers.js layout), ready to open in a runner. */
export interface LoadedModel {
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
