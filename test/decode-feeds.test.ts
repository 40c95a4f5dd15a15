import { describe, expect, it } from 'vitest';
import { emptyPast, extraFeeds, pastNames, singleTokenFeeds } from '../src/decode/feeds.ts';
import { type DecodeModel, decode, type TensorLike } from '../src/decode/index.ts';

const VOCAB = 4;

/** A one-layer fake graph that records every feed it gets (type, dims, data) and returns fixed logits. */
function recordingModel(extra: Partial<DecodeModel> = {}) {
  const seen: Record<string, { type: string; dims: readonly number[]; data: number[] }>[] = [];
  const t = (type: string, data: unknown, dims: readonly number[]): TensorLike => ({ type, data, dims });
  const model: DecodeModel = {
    makeTensor: (type, data, dims) => t(type, data, dims),
    numLayers: 1,
    numKvHeads: 2,
    headDim: 3,
    kvType: 'float32',
    hasPositionIds: true,
    padTokenId: 9,
    pastKey: () => 'past_key_values.0.key',
    pastValue: () => 'past_key_values.0.value',
    presentKey: () => 'present.0.key',
    presentValue: () => 'present.0.value',
    ...extra,
    session: {
      inputNames: [],
      outputNames: [],
      async run(feeds) {
        seen.push(
          Object.fromEntries(
            Object.entries(feeds).map(([k, v]) => [k, { type: v.type, dims: v.dims, data: Array.from(v.data as ArrayLike<number | bigint>, Number) }]),
          ),
        );
        const [batch, seq] = feeds.input_ids!.dims as [number, number];
        // Token 1 wins everywhere, except at position 2 of a row, where token 2 does.
        const logits = new Float32Array(batch * seq * VOCAB);
        for (let r = 0; r < batch * seq; r++) logits[r * VOCAB + (r % seq === 2 ? 2 : 1)] = 1;
        const kv = t('float32', new Float32Array(0), [batch, 2, 0, 3]);
        const names = model.cacheLayout === 'combined' ? [model.presentKey(0)] : [model.presentKey(0), model.presentValue(0)];
        return { logits: t('float32', logits, [batch, seq, VOCAB]), ...Object.fromEntries(names.map((n) => [n, kv])) };
      },
    },
  };
  return { model, seen };
}

const greedy = (promptIds: number[]) => ({ promptIds, maxNewTokens: 2, sampling: { kind: 'greedy' as const }, stopIds: [], topK: 2 });

describe('feeding a graph as it declares itself', () => {
  it('right padding (GroupQueryAttention): pads after, the mask a prefix of ones as long as each row, logits read at each row’s own last token', async () => {
    const { model, seen } = recordingModel({ padding: 'right' });
    const [long, short] = await decode(model, [greedy([5, 6, 7]), greedy([5])]);
    expect(seen[0]!.input_ids!.data).toEqual([5, 6, 7, 5, 9, 9]);
    expect(seen[0]!.attention_mask!.data).toEqual([1, 1, 1, 1, 0, 0]);
    expect(seen[0]!.position_ids!.data).toEqual([0, 1, 2, 0, 0, 0]);
    // The long row's last prompt token is at position 2 (token 2 wins there); the short row's at 0 (token 1).
    expect(long!.tokens[0]).toBe(2);
    expect(short!.tokens[0]).toBe(1);
    expect(seen[1]!.attention_mask).toEqual({ type: 'int64', dims: [2, 4], data: [1, 1, 1, 1, 1, 1, 0, 0] });
    expect(seen[1]!.position_ids!.data).toEqual([3, 1]);
  });

  it('left padding: pads before, masked out, positions from each row’s first token', async () => {
    const { model, seen } = recordingModel();
    await decode(model, [greedy([5, 6, 7]), greedy([5])]);
    expect(seen[0]!.input_ids!.data).toEqual([5, 6, 7, 9, 9, 5]);
    expect(seen[0]!.attention_mask!.data).toEqual([1, 1, 1, 0, 0, 1]);
    expect(seen[0]!.position_ids!.data).toEqual([0, 1, 2, 0, 0, 0]);
    expect(seen[1]!.attention_mask!.data).toEqual([1, 1, 1, 1, 0, 0, 1, 1]);
  });

  it('int32 ids, mask and positions where the graph declares them; a combined past_N per layer', async () => {
    const { model, seen } = recordingModel({
      inputTypes: { input_ids: 'int32', attention_mask: 'int32', position_ids: 'int32' },
      cacheLayout: 'combined',
      pastKey: () => 'past_0',
      presentKey: () => 'present_0',
    });
    await decode(model, [greedy([5, 6])]);
    expect(seen[0]!.input_ids!.type).toBe('int32');
    expect(seen[0]!.attention_mask!.type).toBe('int32');
    expect(seen[0]!.position_ids!.type).toBe('int32');
    expect(seen[0]!.past_0!.dims).toEqual([2, 1, 2, 0, 3]);
    expect(Object.keys(seen[0]!).sort()).toEqual(['attention_mask', 'input_ids', 'past_0', 'position_ids']);
    expect(pastNames(model)).toEqual(['past_0']);
    expect(emptyPast(model, 3)[0]!.dims).toEqual([2, 3, 2, 0, 3]);
  });

  it('num_logits_to_keep and use_cache_branch: 1 and false at the prefill, 0 for an uneven right-padded prefill, true after', async () => {
    const extras = [
      { name: 'num_logits_to_keep', kind: 'logits_to_keep' as const, type: 'int64' },
      { name: 'use_cache_branch', kind: 'use_cache_branch' as const, type: 'bool' },
    ];
    const { model, seen } = recordingModel({ extraInputs: extras, padding: 'right' });
    await decode(model, [greedy([5, 6, 7]), greedy([5])]);
    expect(seen[0]!.num_logits_to_keep).toEqual({ type: 'int64', dims: [], data: [0] });
    expect(seen[0]!.use_cache_branch).toEqual({ type: 'bool', dims: [1], data: [0] });
    expect(seen[1]!.num_logits_to_keep!.data).toEqual([1]);
    expect(seen[1]!.use_cache_branch!.data).toEqual([1]);
    expect(extraFeeds(model, { prefill: true, keepAll: false }).num_logits_to_keep!.data).toEqual(BigInt64Array.of(1n));
    expect(Object.keys(singleTokenFeeds(model, 4)).sort()).toEqual([
      'attention_mask',
      'input_ids',
      'num_logits_to_keep',
      'past_key_values.0.key',
      'past_key_values.0.value',
      'position_ids',
      'use_cache_branch',
    ]);
  });
});
