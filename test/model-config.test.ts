import { describe, expect, it } from 'vitest';
import { DetbenchError } from '../src/errors.ts';
import { parseModelConfig } from '../src/model/config.ts';

describe('parseModelConfig', () => {
  it('maps gpt2 field names', () => {
    // openai-community/gpt2 config.json (abridged).
    const gpt2 = {
      model_type: 'gpt2',
      n_layer: 12,
      n_head: 12,
      n_embd: 768,
      n_positions: 1024,
      n_ctx: 1024,
      vocab_size: 50257,
      bos_token_id: 50256,
      eos_token_id: 50256,
      activation_function: 'gelu_new',
    };
    expect(parseModelConfig(gpt2)).toEqual({
      modelType: 'gpt2',
      numLayers: 12,
      numHeads: 12,
      numKvHeads: 12,
      headDim: 64,
      hiddenSize: 768,
      vocabSize: 50257,
      maxPositions: 1024,
      bosTokenId: 50256,
      eosTokenIds: [50256],
    });
  });

  it('maps llama field names, with grouped-query heads, head_dim and eos lists', () => {
    // meta-llama/Llama-3.2-1B-Instruct config.json (abridged).
    const llama = {
      model_type: 'llama',
      num_hidden_layers: 16,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      hidden_size: 2048,
      head_dim: 64,
      max_position_embeddings: 131072,
      vocab_size: 128256,
      bos_token_id: 128000,
      eos_token_id: [128001, 128008, 128009],
    };
    expect(parseModelConfig(llama)).toEqual({
      modelType: 'llama',
      numLayers: 16,
      numHeads: 32,
      numKvHeads: 8,
      headDim: 64,
      hiddenSize: 2048,
      vocabSize: 128256,
      maxPositions: 131072,
      bosTokenId: 128000,
      eosTokenIds: [128001, 128008, 128009],
    });
  });

  it('adds generation_config.json eos ids and takes pad from config.json', () => {
    // Qwen/Qwen2.5-0.5B-Instruct: the turn end (151645) is config's eos, generation_config adds 151643.
    const qwen2 = {
      model_type: 'qwen2',
      num_hidden_layers: 24,
      num_attention_heads: 14,
      num_key_value_heads: 2,
      hidden_size: 896,
      max_position_embeddings: 32768,
      vocab_size: 151936,
      bos_token_id: 151643,
      eos_token_id: 151645,
      pad_token_id: null,
    };
    const generation = { bos_token_id: 151643, eos_token_id: [151645, 151643], pad_token_id: 151643 };
    const c = parseModelConfig(qwen2, { generationConfig: generation });
    expect(c).toMatchObject({ numKvHeads: 2, headDim: 64, eosTokenIds: [151645, 151643], padTokenId: 151643 });
  });

  it('keeps an explicit head_dim that is not hidden_size / heads (gemma)', () => {
    const gemma = {
      model_type: 'gemma',
      num_hidden_layers: 28,
      num_attention_heads: 16,
      num_key_value_heads: 16,
      hidden_size: 3072,
      head_dim: 256,
      max_position_embeddings: 8192,
      vocab_size: 256000,
      bos_token_id: 2,
      eos_token_id: 1,
      pad_token_id: 0,
    };
    expect(parseModelConfig(gemma)).toMatchObject({ headDim: 256, hiddenSize: 3072, padTokenId: 0, eosTokenIds: [1] });
  });

  it('maps gpt_neox and phi3 configs', () => {
    const neox = {
      model_type: 'gpt_neox',
      num_hidden_layers: 6,
      num_attention_heads: 8,
      hidden_size: 512,
      max_position_embeddings: 2048,
      vocab_size: 50304,
      bos_token_id: 0,
      eos_token_id: 0,
    };
    expect(parseModelConfig(neox)).toMatchObject({ numLayers: 6, numKvHeads: 8, headDim: 64, bosTokenId: 0, eosTokenIds: [0] });
    const phi3 = {
      model_type: 'phi3',
      num_hidden_layers: 32,
      num_attention_heads: 32,
      num_key_value_heads: 32,
      hidden_size: 3072,
      max_position_embeddings: 4096,
      vocab_size: 32064,
      bos_token_id: 1,
      eos_token_id: 32000,
      pad_token_id: 32000,
    };
    expect(parseModelConfig(phi3)).toMatchObject({ numLayers: 32, headDim: 96, maxPositions: 4096, padTokenId: 32000 });
  });

  it('names the file and field of a missing or mistyped field', () => {
    const base = { model_type: 'llama', num_attention_heads: 4, hidden_size: 64, max_position_embeddings: 128, vocab_size: 100 };
    const missing = () => parseModelConfig(base, { file: 'm/config.json' });
    expect(missing).toThrow(DetbenchError);
    expect(missing).toThrow(/m\/config\.json: missing field "num_hidden_layers" or "n_layer"/);
    const mistyped = () => parseModelConfig({ ...base, num_hidden_layers: '2' }, { file: 'm/config.json' });
    expect(mistyped).toThrow(/m\/config\.json: field "num_hidden_layers"/);
    try {
      mistyped();
    } catch (err) {
      expect(err).toMatchObject({ code: 'MODEL_CONFIG_INVALID', file: 'm/config.json', field: 'num_hidden_layers' });
    }
    expect(() => parseModelConfig({ ...base, num_hidden_layers: 2, num_key_value_heads: 3 })).toThrow(/does not divide/);
  });
});
