import { describe, expect, it } from 'vitest';
import { type DecodeModel, type DecodeRequest, decode, Mt19937, sampleWithDraw, type TensorLike } from '../src/decode/index.ts';

const VOCAB = 8;

/**
 * A fake one-layer model: the next token is (last input token + position + 1) mod VOCAB, with a
 * clear margin. The cache just counts positions, so the loop's bookkeeping is what is tested.
 */
function fakeModel(opts: { half?: boolean; device?: boolean } = {}) {
  const disposed: number[] = [];
  let serial = 0;
  const t = (type: string, data: unknown, dims: readonly number[], location = 'cpu'): TensorLike & { serial: number } => {
    const s = serial++;
    return { type, data, dims, location, serial: s, getData: async () => data, dispose: () => disposed.push(s) };
  };
  const feedsSeen: Record<string, readonly number[]>[] = [];
  const model: DecodeModel = {
    makeTensor: (type, data, dims) => t(type, data, dims),
    numLayers: 1,
    numKvHeads: 1,
    headDim: 1,
    kvType: opts.half ? 'float16' : 'float32',
    hasPositionIds: true,
    padTokenId: 0,
    pastKey: () => 'past_key_values.0.key',
    pastValue: () => 'past_key_values.0.value',
    presentKey: () => 'present.0.key',
    presentValue: () => 'present.0.value',
    session: {
      inputNames: [],
      outputNames: [],
      async run(feeds) {
        feedsSeen.push(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dims])));
        const ids = feeds.input_ids!.data as BigInt64Array;
        const pos = feeds.position_ids!.data as BigInt64Array;
        const [batch, seq] = feeds.input_ids!.dims as [number, number];
        const past = feeds['past_key_values.0.key']!.dims[2]!;
        const logits = new Float32Array(batch * seq * VOCAB);
        for (let b = 0; b < batch; b++) {
          const last = b * seq + seq - 1;
          const next = (Number(ids[last]) + Number(pos[last]) + 1) % VOCAB;
          for (let v = 0; v < VOCAB; v++) logits[last * VOCAB + v] = v === next ? 5 : v === (next + 1) % VOCAB ? 4.5 : 0;
        }
        const kv = t('float32', new Float32Array(batch * (past + seq)), [batch, 1, past + seq, 1], opts.device ? 'gpu-buffer' : 'cpu');
        let logitsT: TensorLike = t('float32', logits, [batch, seq, VOCAB]);
        if (opts.half) {
          // fp16 bits of 5, 4.5 and 0.
          const h = Uint16Array.from(logits, (x) => (x === 5 ? 0x4500 : x === 4.5 ? 0x4480 : 0));
          logitsT = t('float16', h, [batch, seq, VOCAB]);
        }
        return { logits: logitsT, 'present.0.key': kv, 'present.0.value': kv };
      },
    },
  };
  return { model, disposed, feedsSeen };
}

const greedy = (promptIds: number[], extra: Partial<DecodeRequest> = {}): DecodeRequest => ({
  promptIds,
  maxNewTokens: 4,
  sampling: { kind: 'greedy' },
  stopIds: [],
  topK: 3,
  ...extra,
});

/** What the fake model generates from a prompt, computed independently. */
function expected(prompt: number[], n: number): number[] {
  const out: number[] = [];
  let last = prompt.at(-1)!;
  let pos = prompt.length - 1;
  for (let i = 0; i < n; i++) {
    last = (last + pos + 1) % VOCAB;
    out.push(last);
    pos++;
  }
  return out;
}

describe('decode loop', () => {
  it('prefills, then feeds each chosen token back with its position and a growing mask', async () => {
    const { model, feedsSeen } = fakeModel();
    const [r] = await decode(model, [greedy([1, 2, 3])]);
    expect(r!.tokens).toEqual(expected([1, 2, 3], 4));
    expect(r!.finishReason).toBe('length');
    expect(feedsSeen.map((f) => f.attention_mask)).toEqual([
      [1, 3],
      [1, 4],
      [1, 5],
      [1, 6],
    ]);
    expect(r!.steps.margin).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(r!.steps.topIds[0]).toHaveLength(3);
    expect(r!.timings.stepMs).toHaveLength(4);
  });

  it("records each sampled step's uniform draw (the generator's sequence), null for greedy, and the draw replays the token", async () => {
    const { model } = fakeModel();
    const sampling = { kind: 'sample' as const, temperature: 1.5, topK: 0, topP: 1, seed: 42 };
    const logitsSeen: Float32Array[] = [];
    const [s, g] = await decode(model, [greedy([1, 2, 3], { sampling }), greedy([1, 2, 3])], {
      onStep: (e) => {
        if (e.row === 0) logitsSeen.push(Float32Array.from(e.logits));
      },
    });
    const rng = new Mt19937(42);
    expect(s!.steps.draw).toEqual([rng.random(), rng.random(), rng.random(), rng.random()]);
    expect(g!.steps.draw).toEqual([null, null, null, null]);
    expect(logitsSeen.map((row, i) => sampleWithDraw(row, sampling, s!.steps.draw![i]!))).toEqual(s!.tokens);
  });

  it('picks the greedy token from the summary it records: the argmax, ties to the lowest id', async () => {
    const { model } = fakeModel();
    const [withTop, withoutTop] = await decode(model, [greedy([1, 2, 3]), greedy([1, 2, 3], { topK: 0 })]);
    expect(withTop!.tokens).toEqual(expected([1, 2, 3], 4));
    expect(withoutTop!.tokens).toEqual(expected([1, 2, 3], 4));
    expect(withTop!.tokens.map((_, i) => withTop!.steps.topIds[i]![0])).toEqual(withTop!.tokens);
  });

  it('gives every row of a left-padded batch what it gives alone', async () => {
    const prompts = [[1, 2, 3, 4, 5], [6], [2, 2]];
    const { model } = fakeModel();
    const batched = await decode(
      model,
      prompts.map((p) => greedy(p)),
    );
    prompts.forEach((p, i) => {
      expect(batched[i]!.tokens).toEqual(expected(p, 4));
      expect(batched[i]!.batch).toEqual({ size: 3, index: i });
    });
  });

  it('stops a row at a stop token and keeps it, while the others go on', async () => {
    const { model } = fakeModel();
    const free = expected([1], 4);
    const [a, b] = await decode(model, [greedy([1], { stopIds: [free[1]!] }), greedy([1])]);
    expect(a!.tokens).toEqual(free.slice(0, 2));
    expect(a!.finishReason).toBe('stop');
    expect(b!.tokens).toEqual(free);
  });

  it('teacher-forces: feeds the given tokens, records what the model would have chosen', async () => {
    const { model } = fakeModel();
    const teacher = [7, 7, 7];
    const [r] = await decode(model, [greedy([1], { teacherTokens: teacher })]);
    expect(r!.steps.forced).toEqual(teacher);
    expect(r!.finishReason).toBe('teacher');
    // Step 0 sees the prompt; later steps see the forced 7 at positions 1, 2.
    expect(r!.tokens).toEqual([(1 + 0 + 1) % VOCAB, (7 + 1 + 1) % VOCAB, (7 + 2 + 1) % VOCAB]);
  });

  it('reads fp16 logits and releases replaced device-side caches', async () => {
    const { model, disposed } = fakeModel({ half: true, device: true });
    const [r] = await decode(model, [greedy([3])]);
    expect(r!.tokens).toEqual(expected([3], 4));
    expect(r!.steps.topLogits[0]!.slice(0, 2)).toEqual([5, 4.5]);
    // 3 caches replaced during the run plus the last one at the end (key and value are one object here).
    expect(disposed.length).toBeGreaterThanOrEqual(4);
  });

  it('samples reproducibly per request seed, whatever the batch', async () => {
    const { model } = fakeModel();
    const req = greedy([1, 2], { sampling: { kind: 'sample', temperature: 3, topK: 0, topP: 1, seed: 11 }, maxNewTokens: 6 });
    const [alone] = await decode(model, [req]);
    const [, inBatch] = await decode(model, [greedy([5]), req]);
    expect(inBatch!.tokens).toEqual(alone!.tokens);
  });
});
