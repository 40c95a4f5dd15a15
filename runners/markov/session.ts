import type { DecodeModel, MakeTensor, SessionLike, TensorLike } from '../../src/decode/types.ts';
import { ngramLogits } from './score.ts';
import type { NgramTable } from './table.ts';

/**
 * The n-gram model dressed as an onnxruntime session, so that the shared decode loop and sampler
 * drive it exactly as they drive a transformer: one "layer" whose key cache carries the tokens
 * seen so far (as float32, exact for ids below 2^24), the attention mask marking left padding.
 */

const PAST_KEY = 'past_key_values.0.key';
const PAST_VALUE = 'past_key_values.0.value';
const PRESENT_KEY = 'present.0.key';
const PRESENT_VALUE = 'present.0.value';

/** Plain CPU tensors: the loop only reads dims, type and data. */
export const makeCpuTensor: MakeTensor = (type, data, dims) => ({ type, data, dims: [...dims], location: 'cpu' });

function ids(t: TensorLike | undefined, name: string): BigInt64Array {
  if (!t || !(t.data instanceof BigInt64Array)) throw new Error(`markov session: ${name} must be an int64 tensor`);
  return t.data;
}

/** A SessionLike whose logits are the table's log-scores for each row's last `order - 1` real tokens. */
export class NgramSession implements SessionLike {
  readonly inputNames = ['input_ids', 'attention_mask', PAST_KEY, PAST_VALUE];
  readonly outputNames = ['logits', PRESENT_KEY, PRESENT_VALUE];

  constructor(
    private readonly table: NgramTable,
    private readonly order: number,
  ) {}

  async run(feeds: Record<string, TensorLike>): Promise<Record<string, TensorLike>> {
    const input = ids(feeds.input_ids, 'input_ids');
    const mask = ids(feeds.attention_mask, 'attention_mask');
    const past = feeds[PAST_KEY];
    if (!past || !(past.data instanceof Float32Array)) throw new Error(`markov session: ${PAST_KEY} must be a float32 tensor`);
    const [batch, seq] = feeds.input_ids!.dims as [number, number];
    const pastLen = past.dims[2] ?? 0;
    const total = pastLen + seq;
    if (mask.length !== batch * total) throw new Error(`markov session: attention_mask has ${mask.length} entries, expected ${batch} × ${total}`);
    const v = this.table.vocab;
    const present = new Float32Array(batch * total);
    const logits = new Float32Array(batch * v);
    for (let b = 0; b < batch; b++) {
      const history: number[] = [];
      for (let j = 0; j < total; j++) {
        const id = j < pastLen ? past.data[b * pastLen + j]! : Number(input[b * seq + j - pastLen]!);
        present[b * total + j] = id;
        if (mask[b * total + j] === 1n) history.push(id);
      }
      ngramLogits(this.table, history, this.order, logits.subarray(b * v, (b + 1) * v));
    }
    const kv = makeCpuTensor('float32', present, [batch, 1, total, 1]);
    return { logits: makeCpuTensor('float32', logits, [batch, 1, v]), [PRESENT_KEY]: kv, [PRESENT_VALUE]: kv };
  }
}

/** Binds the n-gram session to the decode loop (no position ids; the cache is the token history). */
export function ngramDecodeModel(table: NgramTable, order: number, padTokenId: number): DecodeModel {
  return {
    session: new NgramSession(table, order),
    makeTensor: makeCpuTensor,
    numLayers: 1,
    numKvHeads: 1,
    headDim: 1,
    kvType: 'float32',
    hasPositionIds: false,
    padTokenId,
    pastKey: () => PAST_KEY,
    pastValue: () => PAST_VALUE,
    presentKey: () => PRESENT_KEY,
    presentValue: () => PRESENT_VALUE,
  };
}
