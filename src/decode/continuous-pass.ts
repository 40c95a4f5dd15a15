import type { KvData } from './kv.ts';
import { halfToFloat32 } from './logits.ts';
import type { DecodeModel, TensorLike } from './types.ts';

// How one forward pass of a continuous batch is fed and read: the feeds, the empty cache a prefill
// starts from, and the logits and present cache taken from its outputs. Kept apart from the batch's
// scheduling (who joins, who leaves, how the cache rows are laid out) in continuous.ts.

/**
 * Why a continuous batch cannot feed `model`, or null: it places caches right-aligned (left padding), in
 * separate key/value tensors, with int64 ids and no extra inputs. A GroupQueryAttention graph
 * needs right padding (each row packed at the front of its cache), so it is refused, not mis-fed.
 */
export function continuousRefusal(model: DecodeModel): string | null {
  if ((model.padding ?? 'left') !== 'left') return 'its attention (GroupQueryAttention) needs right-padded rows, and continuous batching left-pads';
  if ((model.cacheLayout ?? 'separate') !== 'separate') return 'its KV cache is one combined tensor per layer (past_N)';
  const types = model.inputTypes ?? {};
  const int32 = Object.entries(types).filter(([, t]) => t !== 'int64');
  if (int32.length) return `it declares ${int32.map(([n, t]) => `${n} as ${t}`).join(', ')}; continuous batching feeds int64`;
  if (model.extraInputs?.length) return `it has inputs ${model.extraInputs.map((e) => e.name).join(', ')} that continuous batching does not feed`;
  return null;
}

/** The feeds of one pass: ids and positions `[n, width]`, mask `[n, maskWidth]`, and the past cache per layer. */
export function passFeeds(
  model: DecodeModel,
  ids: BigInt64Array,
  pos: BigInt64Array,
  mask: BigInt64Array,
  n: number,
  width: number,
  past: TensorLike[],
  maskWidth = width,
): Record<string, TensorLike> {
  const feeds: Record<string, TensorLike> = {
    input_ids: model.makeTensor('int64', ids, [n, width]),
    attention_mask: model.makeTensor('int64', mask, [n, maskWidth]),
  };
  if (model.hasPositionIds) feeds.position_ids = model.makeTensor('int64', pos, [n, width]);
  for (let i = 0; i < model.numLayers; i++) {
    feeds[model.pastKey(i)] = past[2 * i]!;
    feeds[model.pastValue(i)] = past[2 * i + 1]!;
  }
  return feeds;
}

/** A zero-length past cache for `n` rows (what a prefill starts from), one tensor shared by every key and value. */
export function emptyCache(model: DecodeModel, n: number): TensorLike[] {
  const empty = model.makeTensor(model.kvType, model.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [n, model.numKvHeads, 0, model.headDim]);
  return Array.from({ length: 2 * model.numLayers }, () => empty);
}

/** Where float16 logits are widened to float32, reused from pass to pass while the size is the same. */
export interface HalfScratch {
  half: Float32Array | null;
}

/** The last position's logits of each row, as float32; `free` once no row is read any more. */
export function logitsOf(
  out: Record<string, TensorLike>,
  n: number,
  scratch: HalfScratch,
  release: (data: ArrayBufferView) => void,
): { row(b: number): Float32Array; free(): void } {
  const logits = out.logits;
  if (!logits) throw new Error('the model returned no "logits" output');
  const [rows, seqLen, vocab] = logits.dims as [number, number, number];
  if (rows !== n) throw new Error(`the model returned logits for ${rows} rows, not ${n}`);
  const raw = cpuData(logits, 'logits') as Float32Array | Uint16Array;
  let data: Float32Array;
  if (raw instanceof Float32Array) data = raw;
  else {
    if (scratch.half?.length !== raw.length) scratch.half = new Float32Array(raw.length);
    data = halfToFloat32(raw, scratch.half);
  }
  const all = data;
  return { row: (b) => all.subarray((b * seqLen + seqLen - 1) * vocab, (b * seqLen + seqLen) * vocab), free: () => release(raw) };
}

/** The present cache of every layer (key, value), in the order the batch keeps it. */
export function presentOf(model: DecodeModel, out: Record<string, TensorLike>): KvData[] {
  const present: KvData[] = [];
  for (let i = 0; i < model.numLayers; i++) {
    for (const name of [model.presentKey(i), model.presentValue(i)]) {
      const t = out[name];
      if (!t) throw new Error(`the model returned no "${name}" output`);
      present.push(cpuData(t, name) as KvData);
    }
  }
  return present;
}

/** Continuous batching moves cache rows on the host: a device-resident cache is refused, not copied. */
function cpuData(t: TensorLike, name: string): unknown {
  if (t.location && t.location !== 'cpu') throw new Error(`continuous batching needs "${name}" on the CPU, but it is on ${t.location}`);
  return t.data;
}
