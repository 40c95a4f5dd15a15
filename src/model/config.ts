import { z } from 'zod';
import { DetbenchError } from '../errors.ts';
import type { ModelConfig } from './types.ts';

const count = z.number().int().positive();
// Llama-1-era configs write -1 for "no such token": read as absent.
const tokenIds = z.union([z.number().int(), z.array(z.number().int())]).nullish();

/** config.json fields detbench reads, under every name the supported families use. */
const rawConfigSchema = z.looseObject({
  model_type: z.string().min(1),
  // gpt2 / llama, qwen2, mistral, phi3, gemma, gpt_neox
  n_layer: count.optional(),
  num_hidden_layers: count.optional(),
  n_head: count.optional(),
  num_attention_heads: count.optional(),
  num_key_value_heads: count.nullish(),
  n_embd: count.optional(),
  hidden_size: count.optional(),
  head_dim: count.nullish(),
  n_positions: count.optional(),
  max_position_embeddings: count.optional(),
  n_ctx: count.optional(),
  vocab_size: count,
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
  pad_token_id: tokenIds,
});

/** generation_config.json fields that add stop and special tokens. */
const generationSchema = z.looseObject({
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
  pad_token_id: tokenIds,
});

type RawConfig = z.infer<typeof rawConfigSchema>;

function validate<T>(schema: z.ZodType<T>, raw: unknown, file: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || '(root)';
  throw new DetbenchError('MODEL_CONFIG_INVALID', `${file}: field "${field}": ${issue.message}`, { file, field, cause: parsed.error });
}

function ids(value: number | number[] | null | undefined): number[] {
  if (value === null || value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v >= 0);
}

/**
 * Maps a config.json (gpt2, llama, qwen2, mistral, phi3, gemma or gpt_neox field names) to a
 * {@link ModelConfig}. Eos ids from generation_config.json, when given, are added to config.json's
 * (instruct models often list their turn-end token only there). Throws MODEL_CONFIG_INVALID
 * naming `file` and the field.
 */
export function parseModelConfig(raw: unknown, options: { file?: string; generationConfig?: unknown; generationFile?: string } = {}): ModelConfig {
  const file = options.file ?? 'config.json';
  const c = validate(rawConfigSchema, raw, file);
  const gen =
    options.generationConfig === undefined
      ? undefined
      : validate(generationSchema, options.generationConfig, options.generationFile ?? 'generation_config.json');

  const pick = (names: (keyof RawConfig)[]): number => {
    for (const name of names) {
      const value = c[name];
      if (typeof value === 'number') return value;
    }
    const list = names.map((n) => `"${n}"`).join(' or ');
    throw new DetbenchError('MODEL_CONFIG_INVALID', `${file}: missing field ${list}`, { file, field: names[0]! });
  };

  const numLayers = pick(['num_hidden_layers', 'n_layer']);
  const numHeads = pick(['num_attention_heads', 'n_head']);
  const hiddenSize = pick(['hidden_size', 'n_embd']);
  const numKvHeads = c.num_key_value_heads ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw new DetbenchError('MODEL_CONFIG_INVALID', `${file}: num_key_value_heads ${numKvHeads} does not divide the ${numHeads} attention heads`, {
      file,
      field: 'num_key_value_heads',
    });
  }
  // gemma and others set head_dim explicitly, and it need not be hidden_size / heads.
  const headDim = c.head_dim ?? hiddenSize / numHeads;
  if (!Number.isInteger(headDim)) {
    throw new DetbenchError('MODEL_CONFIG_INVALID', `${file}: hidden size ${hiddenSize} is not a multiple of ${numHeads} heads and there is no "head_dim"`, {
      file,
      field: 'head_dim',
    });
  }
  const eosTokenIds = [...new Set([...ids(c.eos_token_id), ...ids(gen?.eos_token_id)])];
  const bosTokenId = ids(c.bos_token_id)[0] ?? ids(gen?.bos_token_id)[0];
  const padTokenId = ids(c.pad_token_id)[0] ?? ids(gen?.pad_token_id)[0];
  return {
    modelType: c.model_type,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    hiddenSize,
    vocabSize: c.vocab_size,
    maxPositions: pick(['max_position_embeddings', 'n_positions', 'n_ctx']),
    ...(bosTokenId !== undefined ? { bosTokenId } : {}),
    eosTokenIds,
    ...(padTokenId !== undefined ? { padTokenId } : {}),
  };
}
