import { DetbenchError } from '../errors.ts';
import type { OnnxGraphIO, OnnxValueInfo } from './onnx-io.ts';
import type { ModelConfig, ModelIO } from './types.ts';

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;
const FED = new Set(['input_ids', 'attention_mask', 'position_ids']);
const KV_TYPES = new Set(['float32', 'float16']);

/** Where the two sides of a comparison come from, for messages. */
export interface IOFiles {
  onnx: string;
  config: string;
}

function mismatch(files: IOFiles, message: string, field?: string): DetbenchError {
  return new DetbenchError('MODEL_IO_MISMATCH', `${files.onnx}: ${message}`, { file: files.onnx, ...(field ? { field } : {}) });
}

function shapeText(v: OnnxValueInfo): string {
  return v.dims ? `[${v.dims.map((d) => d ?? '?').join(', ')}]` : '(unknown shape)';
}

/** Checks one cache tensor against [batch, numKvHeads, seq, headDim]; symbolic dims pass. */
function checkCache(v: OnnxValueInfo, config: ModelConfig, files: IOFiles): void {
  if (!KV_TYPES.has(v.elemType)) throw mismatch(files, `"${v.name}" is ${v.elemType}; a KV cache must be float32 or float16`);
  if (!v.dims) return;
  if (v.dims.length !== 4) throw mismatch(files, `"${v.name}" has shape ${shapeText(v)}; expected [batch, kv_heads, seq, head_dim]`);
  const [, heads, , headDim] = v.dims;
  if (typeof heads === 'number' && heads !== config.numKvHeads) {
    throw mismatch(files, `"${v.name}" has ${heads} kv heads (shape ${shapeText(v)}) but ${files.config} gives ${config.numKvHeads}`, 'num_key_value_heads');
  }
  if (typeof headDim === 'number' && headDim !== config.headDim) {
    throw mismatch(files, `"${v.name}" has head dim ${headDim} (shape ${shapeText(v)}) but ${files.config} gives ${config.headDim}`, 'head_dim');
  }
}

/**
 * Checks that an ONNX graph has the transformers.js decoder interface for `config` (input_ids,
 * attention_mask, optional position_ids, one past/present key and value per layer with the
 * configured kv heads and head dim, logits) and returns its names. Throws MODEL_IO_MISMATCH.
 */
export function modelIOFor(graph: OnnxGraphIO, config: ModelConfig, files: IOFiles): ModelIO {
  const inputs = new Map(graph.inputs.map((v) => [v.name, v]));
  const outputs = new Map(graph.outputs.map((v) => [v.name, v]));
  const inputList = graph.inputs.map((v) => v.name).join(', ');
  for (const name of ['input_ids', 'attention_mask']) {
    if (!inputs.has(name)) throw mismatch(files, `no "${name}" input (inputs: ${inputList})`);
  }
  if (!outputs.has('logits')) throw mismatch(files, `no "logits" output (outputs: ${graph.outputs.map((v) => v.name).join(', ')})`);

  const layers = new Set<number>();
  for (const v of graph.inputs) {
    const m = PAST.exec(v.name);
    if (m) layers.add(Number(m[1]));
    else if (!FED.has(v.name)) throw mismatch(files, `input "${v.name}" is not one detbench feeds (inputs: ${inputList})`);
  }
  if (layers.size !== config.numLayers) {
    throw mismatch(files, `past_key_values inputs cover ${layers.size} layers but ${files.config} gives ${config.numLayers}`, 'num_hidden_layers');
  }
  const io: ModelIO = {
    inputNames: graph.inputs.map((v) => v.name),
    outputNames: graph.outputs.map((v) => v.name),
    hasPositionIds: inputs.has('position_ids'),
    pastKeyNames: [],
    pastValueNames: [],
    presentKeyNames: [],
    presentValueNames: [],
  };
  for (let i = 0; i < config.numLayers; i++) {
    for (const kind of ['key', 'value'] as const) {
      const past = inputs.get(`past_key_values.${i}.${kind}`);
      const present = outputs.get(`present.${i}.${kind}`);
      if (!past) throw mismatch(files, `no "past_key_values.${i}.${kind}" input for layer ${i} of ${config.numLayers}`);
      if (!present) throw mismatch(files, `no "present.${i}.${kind}" output for layer ${i} of ${config.numLayers}`);
      checkCache(past, config, files);
      checkCache(present, config, files);
      (kind === 'key' ? io.pastKeyNames : io.pastValueNames).push(past.name);
      (kind === 'key' ? io.presentKeyNames : io.presentValueNames).push(present.name);
    }
  }
  return io;
}

/** The logits' vocabulary dimension when the graph fixes it. */
export function staticLogitsVocab(graph: OnnxGraphIO): number | undefined {
  const dims = graph.outputs.find((v) => v.name === 'logits')?.dims;
  const last = dims?.[dims.length - 1];
  return typeof last === 'number' ? last : undefined;
}
