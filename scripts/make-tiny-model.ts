import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { toExternalData } from './tiny-model/external-data.ts';
import { buildTinyGraph } from './tiny-model/graph.ts';
import { buildTokenizer } from './tiny-model/tokenizer.ts';

/** Size and variant of the generated model; every field has a small default. */
export interface TinyModelOptions {
  /** Transformer blocks (default 2). */
  layers?: number;
  /** Query heads (default 4). */
  heads?: number;
  /** Key/value heads (default = heads); fewer gives grouped-query attention. */
  kvHeads?: number;
  /** Hidden size (default 64). */
  embd?: number;
  /** BPE merges learned on top of the 256 byte symbols (default 200). */
  vocabMerges?: number;
  /** Embedding rows, when padded beyond the tokenizer's tokens (default: the tokenizer's size). */
  vocabSize?: number;
  /** Weight seed (default 1). */
  seed?: number;
  /** Whether `position_ids` is a graph input (default true); else positions come from the mask. */
  withPositionIds?: boolean;
  /** Store the weights in `onnx/model.onnx_data` beside the graph, as large exports do (default false). */
  externalData?: boolean;
}

/** The external-data file's name, as the graph gives it (relative to onnx/). */
export const EXTERNAL_DATA_FILE = 'model.onnx_data';

const MAX_POSITIONS = 256;

/**
 * Writes a tiny random-weight GPT-2-style model in the Hugging Face / transformers.js layout:
 * config.json, generation_config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx
 * (and onnx/model.onnx_data with `externalData`).
 * The same options always give byte-identical files.
 */
export async function makeTinyModel(outDir: string, opts: TinyModelOptions = {}): Promise<void> {
  const layers = opts.layers ?? 2;
  const heads = opts.heads ?? 4;
  const kvHeads = opts.kvHeads ?? heads;
  const embd = opts.embd ?? 64;
  const tok = buildTokenizer(opts.vocabMerges ?? 200);
  const vocab = opts.vocabSize ?? tok.vocabSize;
  if (vocab < tok.vocabSize) throw new Error(`vocabSize ${vocab} is below the tokenizer's ${tok.vocabSize} tokens`);
  const graph = buildTinyGraph({
    layers,
    heads,
    kvHeads,
    embd,
    vocab,
    positions: MAX_POSITIONS,
    withPositionIds: opts.withPositionIds ?? true,
    seed: opts.seed ?? 1,
  });
  const weights = opts.externalData ? toExternalData(graph, EXTERNAL_DATA_FILE) : { model: graph, data: null };
  const eos = tok.endOfTextId;
  const config = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: 'gelu',
    n_layer: layers,
    n_head: heads,
    ...(kvHeads !== heads ? { num_key_value_heads: kvHeads } : {}),
    n_embd: embd,
    n_inner: null,
    n_positions: MAX_POSITIONS,
    n_ctx: MAX_POSITIONS,
    vocab_size: vocab,
    layer_norm_epsilon: 1e-5,
    bos_token_id: eos,
    eos_token_id: eos,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
  };
  const generationConfig = { _from_model_config: true, bos_token_id: eos, eos_token_id: eos };
  const json = (x: unknown) => `${JSON.stringify(x, null, 2)}\n`;
  await mkdir(path.join(outDir, 'onnx'), { recursive: true });
  await Promise.all([
    writeFile(path.join(outDir, 'config.json'), json(config)),
    writeFile(path.join(outDir, 'generation_config.json'), json(generationConfig)),
    writeFile(path.join(outDir, 'tokenizer.json'), json(tok.tokenizerJson)),
    writeFile(path.join(outDir, 'tokenizer_config.json'), json(tok.tokenizerConfig)),
    writeFile(path.join(outDir, 'onnx', 'model.onnx'), weights.model),
    ...(weights.data ? [writeFile(path.join(outDir, 'onnx', EXTERNAL_DATA_FILE), weights.data)] : []),
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: node --import tsx scripts/make-tiny-model.ts <outDir>');
    process.exit(2);
  }
  await makeTinyModel(outDir);
  console.log(`wrote ${outDir}`);
}
