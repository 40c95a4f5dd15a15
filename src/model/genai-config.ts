import { z } from 'zod';
import { DetbenchError } from '../errors.ts';
import type { CacheTemplates, ModelConfig } from './types.ts';

const count = z.number().int().positive();
/** -1 (and null) mean "none" in older configs. */
const tokenIds = z.union([z.number().int(), z.array(z.number().int())]).nullish();

/** The genai_config.json fields detbench reads (ONNX Runtime GenAI model builder, Olive, the Phi/Llama ONNX releases). */
const genaiSchema = z.looseObject({
  model: z.looseObject({
    type: z.string().min(1),
    vocab_size: count,
    context_length: count,
    bos_token_id: tokenIds,
    eos_token_id: tokenIds,
    pad_token_id: tokenIds,
    decoder: z.looseObject({
      filename: z.string().min(1),
      head_size: count,
      hidden_size: count.optional(),
      num_attention_heads: count.optional(),
      num_hidden_layers: count,
      num_key_value_heads: count,
      inputs: z.record(z.string(), z.string()).optional(),
      outputs: z.record(z.string(), z.string()).optional(),
    }),
  }),
});

/** What a genai_config.json says about the decoder. */
export interface GenaiModel {
  config: ModelConfig;
  /** decoder.filename, relative to the folder. */
  file: string;
  /** Cache name templates from decoder.inputs/outputs, when they name them. */
  templates?: CacheTemplates;
  /** Inputs decoder.inputs names (input_ids, attention_mask, position_ids, ...), for the overrides. */
  namedInputs: Record<string, string>;
}

function ids(value: number | number[] | null | undefined): number[] {
  if (value === null || value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v >= 0);
}

/** Parses genai_config.json; throws MODEL_CONFIG_INVALID naming `file` and the field. */
export function parseGenaiConfig(raw: unknown, file: string): GenaiModel {
  const parsed = genaiSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.') || '(root)';
    throw new DetbenchError('MODEL_CONFIG_INVALID', `${file}: field "${field}": ${issue.message}`, { file, field, cause: parsed.error });
  }
  const m = parsed.data.model;
  const d = m.decoder;
  const numKvHeads = d.num_key_value_heads;
  const numHeads = d.num_attention_heads ?? numKvHeads;
  const inputs = d.inputs ?? {};
  const outputs = d.outputs ?? {};
  let templates: CacheTemplates | undefined;
  if (inputs.past_key_names && outputs.present_key_names) {
    templates = { pastKey: inputs.past_key_names, presentKey: outputs.present_key_names };
    if (inputs.past_value_names) templates.pastValue = inputs.past_value_names;
    if (outputs.present_value_names) templates.presentValue = outputs.present_value_names;
  } else if (inputs.past_names && outputs.present_names) {
    // The older GPT-2 interface: one combined key/value tensor per layer.
    templates = { pastKey: inputs.past_names, presentKey: outputs.present_names };
  }
  const bos = ids(m.bos_token_id)[0];
  const pad = ids(m.pad_token_id)[0];
  const config: ModelConfig = {
    modelType: m.type,
    numLayers: d.num_hidden_layers,
    numHeads,
    numKvHeads,
    headDim: d.head_size,
    hiddenSize: d.hidden_size ?? numHeads * d.head_size,
    vocabSize: m.vocab_size,
    maxPositions: m.context_length,
    ...(bos !== undefined ? { bosTokenId: bos } : {}),
    eosTokenIds: ids(m.eos_token_id),
    ...(pad !== undefined ? { padTokenId: pad } : {}),
  };
  return { config, file: d.filename, ...(templates ? { templates } : {}), namedInputs: inputs };
}
