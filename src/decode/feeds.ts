import type { DecodeModel, IntType, TensorLike } from './types.ts';

/**
 * How the loop builds a graph's inputs: ids, mask and positions in the integer type the graph
 * declares, the KV cache in its layout, and the extra inputs whose meaning is known. Kept apart
 * from the loop so the warm-up probes of the runners feed a graph exactly as the loop does.
 */

/** An integer tensor in the graph's declared type (int32 in older exports, else int64). */
export function intTensor(model: DecodeModel, type: IntType | undefined, values: ArrayLike<number>, dims: readonly number[]): TensorLike {
  if (type === 'int32') return model.makeTensor('int32', Int32Array.from(values), dims);
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return model.makeTensor('int64', data, dims);
}

/** Empty past caches for a batch (sequence length 0), one tensor per input name. */
export function emptyPast(model: DecodeModel, batch: number): TensorLike[] {
  const empty = (dims: number[]) => model.makeTensor(model.kvType, model.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
  if (model.cacheLayout === 'combined') {
    const t = empty([2, batch, model.numKvHeads, 0, model.headDim]);
    return Array.from({ length: model.numLayers }, () => t);
  }
  const t = empty([batch, model.numKvHeads, 0, model.headDim]);
  return Array.from({ length: 2 * model.numLayers }, () => t);
}

/** The cache input names, in the order {@link emptyPast} and {@link presentOf} list tensors. */
export function pastNames(model: DecodeModel): string[] {
  const names: string[] = [];
  for (let i = 0; i < model.numLayers; i++) {
    if (model.cacheLayout === 'combined') names.push(model.pastKey(i));
    else names.push(model.pastKey(i), model.pastValue(i));
  }
  return names;
}

/** The cache outputs of a forward pass, in {@link pastNames} order; throws naming a missing one. */
export function presentOf(model: DecodeModel, out: Record<string, TensorLike>): TensorLike[] {
  const tensors: TensorLike[] = [];
  for (let i = 0; i < model.numLayers; i++) {
    const names = model.cacheLayout === 'combined' ? [model.presentKey(i)] : [model.presentKey(i), model.presentValue(i)];
    for (const name of names) {
      const t = out[name];
      if (!t) throw new Error(`the model returned no "${name}" output`);
      tensors.push(t);
    }
  }
  return tensors;
}

/**
 * The known extra inputs for one pass. `keepAll`: the pass needs the logits of every position
 * (a right-padded prefill reads each row at its own last token).
 */
export function extraFeeds(model: DecodeModel, opts: { prefill: boolean; keepAll: boolean }): Record<string, TensorLike> {
  const feeds: Record<string, TensorLike> = {};
  for (const extra of model.extraInputs ?? []) {
    if (extra.kind === 'logits_to_keep') {
      // 0 keeps every position (transformers' convention); 1 keeps the last, which is all a step needs.
      feeds[extra.name] = intTensor(model, extra.type === 'int32' ? 'int32' : 'int64', [opts.keepAll ? 0 : 1], []);
    } else {
      // Merged decoders take the no-cache branch for the prefill (empty past) and the cache branch after.
      feeds[extra.name] = model.makeTensor('bool', Uint8Array.of(opts.prefill ? 0 : 1), [1]);
    }
  }
  return feeds;
}

/** Feeds for one token through the graph with empty caches (the runners' warm-up and placement probes). */
export function singleTokenFeeds(model: DecodeModel, token: number): Record<string, TensorLike> {
  const feeds: Record<string, TensorLike> = {
    input_ids: intTensor(model, model.inputTypes?.input_ids, [token], [1, 1]),
    attention_mask: intTensor(model, model.inputTypes?.attention_mask, [1], [1, 1]),
    ...extraFeeds(model, { prefill: true, keepAll: false }),
  };
  if (model.hasPositionIds) feeds.position_ids = intTensor(model, model.inputTypes?.position_ids, [0], [1, 1]);
  const past = emptyPast(model, 1);
  for (const [i, name] of pastNames(model).entries()) feeds[name] = past[i]!;
  return feeds;
}
