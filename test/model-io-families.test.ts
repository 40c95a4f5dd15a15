import { describe, expect, it } from 'vitest';
import { DetbenchError } from '../src/errors.ts';
import { modelIOFor } from '../src/model/io-check.ts';
import type { OnnxGraphIO, OnnxValueInfo } from '../src/model/onnx-io.ts';
import type { ModelConfig } from '../src/model/types.ts';

const config: ModelConfig = {
  modelType: 'llama',
  numLayers: 2,
  numHeads: 2,
  numKvHeads: 2,
  headDim: 8,
  hiddenSize: 16,
  vocabSize: 10,
  maxPositions: 64,
  eosTokenIds: [1],
};
const files = { onnx: 'm/model.onnx', config: 'm/config.json' };
const v = (name: string, elemType: string, dims: (number | string)[]): OnnxValueInfo => ({ name, elemType, dims });
const kv = (name: string) => v(name, 'float32', ['batch', 2, 'seq', 8]);

/** A graph with these cache names for 2 layers, plus the usual ids, mask and logits. */
function graph(past: (i: number) => string[], present: (i: number) => string[], extra: OnnxValueInfo[] = [], gqa = false): OnnxGraphIO {
  return {
    irVersion: 8,
    opsets: [],
    inputs: [v('input_ids', 'int64', ['batch', 'seq']), v('attention_mask', 'int64', ['batch', 'total']), ...[0, 1].flatMap((i) => past(i).map(kv)), ...extra],
    outputs: [v('logits', 'float32', ['batch', 'seq', 10]), ...[0, 1].flatMap((i) => present(i).map(kv))],
    externalData: [],
    ops: gqa ? [{ domain: 'com.microsoft', opType: 'GroupQueryAttention', count: 2 }] : [],
    weights: [],
  };
}

describe('cache name families and extra inputs, read from the graph', () => {
  it.each([
    [
      'past_key_values.N / present.N',
      (i: number) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`],
      (i: number) => [`present.${i}.key`, `present.${i}.value`],
    ],
    [
      'past_key_values.N / present_key_values.N',
      (i: number) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`],
      (i: number) => [`present_key_values.${i}.key`, `present_key_values.${i}.value`],
    ],
    ['past.N / present.N', (i: number) => [`past.${i}.key`, `past.${i}.value`], (i: number) => [`present.${i}.key`, `present.${i}.value`]],
    ['past_key_N / present_key_N', (i: number) => [`past_key_${i}`, `past_value_${i}`], (i: number) => [`present_key_${i}`, `present_value_${i}`]],
  ])('%s', (_label, past, present) => {
    const { io, overrides } = modelIOFor(graph(past, present), config, files);
    expect(io.pastKeyNames).toEqual([past(0)[0], past(1)[0]]);
    expect(io.pastValueNames).toEqual([past(0)[1], past(1)[1]]);
    expect(io.presentKeyNames).toEqual([present(0)[0], present(1)[0]]);
    expect(io.presentValueNames).toEqual([present(0)[1], present(1)[1]]);
    expect(io).toMatchObject({ cacheLayout: 'separate', padding: 'left', kvType: 'float32', logitsType: 'float32', extraInputs: [] });
    expect(overrides).toEqual([]);
  });

  it('feeds num_logits_to_keep and use_cache_branch; pads GroupQueryAttention graphs on the right', () => {
    const p = (i: number) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`];
    const o = (i: number) => [`present.${i}.key`, `present.${i}.value`];
    const { io } = modelIOFor(graph(p, o, [v('num_logits_to_keep', 'int64', []), v('use_cache_branch', 'bool', [1])], true), config, files);
    expect(io.extraInputs).toEqual([
      { name: 'num_logits_to_keep', kind: 'logits_to_keep', type: 'int64' },
      { name: 'use_cache_branch', kind: 'use_cache_branch', type: 'bool' },
    ]);
    expect(io.padding).toBe('right');
  });

  it('refuses at load what it cannot feed, naming the input', () => {
    const p = (i: number) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`];
    const o = (i: number) => [`present.${i}.key`, `present.${i}.value`];
    const refused = (g: OnnxGraphIO) => {
      try {
        modelIOFor(g, config, files);
      } catch (err) {
        expect(err).toBeInstanceOf(DetbenchError);
        return (err as DetbenchError).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refused(graph(p, o, [v('token_type_ids', 'int64', ['batch', 'seq'])]))).toBe(
      'm/model.onnx: input "token_type_ids" (int64 [batch, seq]) is not one detbench can feed (it feeds input_ids, attention_mask, position_ids, the KV cache, num_logits_to_keep/logits_to_keep and use_cache_branch)',
    );
    const floatIds = graph(p, o);
    floatIds.inputs[0] = v('input_ids', 'float32', ['batch', 'seq']);
    expect(refused(floatIds)).toBe('m/model.onnx: input "input_ids" is float32; detbench feeds int64 or int32');
    const bf16 = graph(p, o);
    bf16.inputs[2] = v('past_key_values.0.key', 'bfloat16', ['batch', 2, 'seq', 8]);
    expect(refused(bf16)).toBe('m/model.onnx: "past_key_values.0.key" is bfloat16; a KV cache must be float32 or float16');
    expect(
      refused(
        graph(
          () => [],
          () => [],
        ),
      ),
    ).toMatch(/^m\/model\.onnx: no KV-cache inputs of a known family/);
  });
});
