import type { DecodeModel, ExtraInput, IntType, MakeTensor, Padding, SessionLike } from './types.ts';

/** The model facts the loop needs, as a plain object that also travels to the browser page. */
export interface ModelSpec {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  padTokenId: number;
  /**
   * KV-cache input/output names per layer, as read from the graph; default: the transformers.js
   * names. With the combined layout, pastKey/presentKey name the one tensor per layer.
   */
  cacheNames?: { pastKey: string[]; pastValue: string[]; presentKey: string[]; presentValue: string[] };
  /** How the graph takes a batch of prompts of different lengths (default left). */
  padding?: Padding;
  inputTypes?: { input_ids?: IntType; attention_mask?: IntType; position_ids?: IntType };
  cacheLayout?: 'separate' | 'combined';
  extraInputs?: ExtraInput[];
}

interface MetadataLike {
  name: string;
  isTensor?: boolean;
  type?: string;
}

/**
 * Binds a session to the loop: checks the KV-cache names (from the spec, else
 * `past_key_values.{i}.key` / `present.{i}.key` as transformers.js exports them), whether `position_ids` is an input, and the
 * cache element type from the session's input metadata (fp16 models take fp16 caches).
 */
export function decodeModelFor(session: SessionLike & { inputMetadata?: readonly MetadataLike[] }, spec: ModelSpec, makeTensor: MakeTensor): DecodeModel {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  const n = spec.cacheNames;
  const combined = spec.cacheLayout === 'combined';
  const pastKey = (i: number) => n?.pastKey[i] ?? `past_key_values.${i}.key`;
  const pastValue = (i: number) => n?.pastValue[i] ?? `past_key_values.${i}.value`;
  const presentKey = (i: number) => n?.presentKey[i] ?? `present.${i}.key`;
  const presentValue = (i: number) => n?.presentValue[i] ?? `present.${i}.value`;
  for (const name of ['input_ids', 'attention_mask', ...(spec.extraInputs ?? []).map((e) => e.name)]) {
    if (!inputs.has(name)) throw new Error(`the model has no "${name}" input (inputs: ${session.inputNames.join(', ')})`);
  }
  if (!outputs.has('logits')) throw new Error(`the model has no "logits" output (outputs: ${session.outputNames.join(', ')})`);
  for (let i = 0; i < spec.numLayers; i++) {
    for (const name of combined ? [pastKey(i)] : [pastKey(i), pastValue(i)]) if (!inputs.has(name)) throw new Error(`the model has no "${name}" input`);
    for (const name of combined ? [presentKey(i)] : [presentKey(i), presentValue(i)])
      if (!outputs.has(name)) throw new Error(`the model has no "${name}" output`);
  }
  const meta = session.inputMetadata?.find((m) => m.name === pastKey(0));
  const kvType = meta?.type === 'float16' ? 'float16' : 'float32';
  return {
    session,
    makeTensor,
    numLayers: spec.numLayers,
    numKvHeads: spec.numKvHeads,
    headDim: spec.headDim,
    kvType,
    hasPositionIds: inputs.has('position_ids'),
    padTokenId: spec.padTokenId,
    padding: spec.padding ?? 'left',
    inputTypes: spec.inputTypes ?? {},
    cacheLayout: spec.cacheLayout ?? 'separate',
    extraInputs: spec.extraInputs ?? [],
    pastKey,
    pastValue,
    presentKey,
    presentValue,
  };
}
