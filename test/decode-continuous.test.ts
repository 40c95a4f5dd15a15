import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeNodeTensor } from '../runners/node-cpu/runner.ts';
import { ContinuousBatch, type TokenEvent } from '../src/decode/continuous.ts';
import { assembleRows } from '../src/decode/kv.ts';
import { decode } from '../src/decode/loop.ts';
import { decodeModelFor } from '../src/decode/session-model.ts';
import type { DecodeModel, DecodeRequest } from '../src/decode/types.ts';
import { loadModel } from '../src/model/load.ts';
import { specOf } from '../src/runner-contract/spec.ts';
import { releaseBuffer } from '../src/serve/release.ts';
import { type TinyVariant, tinyModelDir } from './helpers/tiny-model.ts';

describe('assembleRows', () => {
  // Two rows of [heads 2, length 3, headDim 1]: row r, head h, position l holds 100r + 10h + l + 1.
  const data = Float32Array.from({ length: 12 }, (_, i) => 100 * Math.floor(i / 6) + 10 * Math.floor((i % 6) / 3) + (i % 3) + 1);

  it('right-aligns rows from several parts, zero before them', () => {
    const other = Float32Array.of(7, 8, 9, 10); // one row, 2 heads, length 2
    const out = assembleRows(
      [
        { data, batch: 2, length: 3, rows: [1] },
        { data: other, batch: 1, length: 2, rows: [0] },
      ],
      2,
      1,
      4,
    );
    expect([...out]).toEqual([0, 101, 102, 103, 0, 111, 112, 113, 0, 0, 7, 8, 0, 0, 9, 10]);
  });

  it('drops rows and trims the leading positions', () => {
    expect([...assembleRows([{ data, batch: 2, length: 3, rows: [0] }], 2, 1, 2)]).toEqual([2, 3, 12, 13]);
  });

  it('copies only the positions a part says its rows use, as if it had been trimmed first', () => {
    const once = assembleRows([{ data, batch: 2, length: 3, rows: [1], used: 2 }], 2, 1, 4);
    const trimmed = assembleRows([{ data, batch: 2, length: 3, rows: [1] }], 2, 1, 2);
    expect([...once]).toEqual([0, 0, 102, 103, 0, 0, 112, 113]);
    expect([...assembleRows([{ data: trimmed, batch: 1, length: 2, rows: [0] }], 2, 1, 4)]).toEqual([...once]);
  });

  it('keeps float16 caches as raw bits and refuses a mix or a wrong size', () => {
    const half = Uint16Array.of(0x3c00, 0x4000);
    const out = assembleRows([{ data: half, batch: 1, length: 2, rows: [0] }], 1, 1, 3);
    expect(out).toBeInstanceOf(Uint16Array);
    expect([...out]).toEqual([0, 0x3c00, 0x4000]);
    expect(() =>
      assembleRows(
        [
          { data, batch: 2, length: 3, rows: [0] },
          { data: Uint16Array.of(1, 2, 3, 4), batch: 1, length: 2, rows: [0] },
        ],
        2,
        1,
        3,
      ),
    ).toThrow(/mix/);
    expect(() => assembleRows([{ data, batch: 3, length: 3, rows: [0] }], 2, 1, 3)).toThrow(/holds 12 elements/);
  });
});

const greedy = (promptIds: number[], maxNewTokens: number): DecodeRequest => ({ promptIds, maxNewTokens, sampling: { kind: 'greedy' }, stopIds: [], topK: 2 });

for (const variant of ['default', 'no-position-ids'] as TinyVariant[]) {
  describe(`ContinuousBatch on the tiny model (${variant})`, () => {
    let session: ort.InferenceSession;
    let dm: DecodeModel;
    beforeAll(async () => {
      const model = await loadModel(await tinyModelDir(variant));
      session = await ort.InferenceSession.create(model.onnxPath, { intraOpNumThreads: 1 });
      dm = decodeModelFor(session, specOf(model), makeNodeTensor);
    });
    afterAll(async () => session?.release());

    it('requests that join and leave mid-decode get the tokens they get alone', async () => {
      const reqs = {
        a: greedy([5, 17, 3, 99, 41], 14),
        b: greedy([8, 8, 2, 60, 33, 71, 12, 5, 90], 5),
        c: { ...greedy([250, 3], 9), sampling: { kind: 'sample', temperature: 0.9, topK: 0, topP: 1, seed: 7 } } satisfies DecodeRequest,
        d: greedy([1, 2, 3], 1),
      };
      const alone = Object.fromEntries(await Promise.all(Object.entries(reqs).map(async ([k, r]) => [k, (await decode(dm, [r]))[0]!] as const)));
      const got: Record<string, TokenEvent<string>[]> = { a: [], b: [], c: [], d: [] };
      const batch = new ContinuousBatch<string>(dm);
      const on = (e: TokenEvent<string>) => got[e.tag]!.push({ ...e, logits: e.logits.slice() });
      await batch.join([{ tag: 'a', req: reqs.a }], on);
      await batch.step(on);
      await batch.step(on);
      await batch.join(
        (['b', 'c', 'd'] as const).map((tag) => ({ tag, req: reqs[tag] })),
        on,
      );
      expect(batch.tags()).toEqual(['a', 'b', 'c']); // d finished with its first token
      const sizes: number[] = [];
      while (batch.size > 0) {
        sizes.push(batch.size);
        await batch.step(on);
      }
      expect(sizes).toEqual([3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1]);
      expect(batch.cacheLength).toBe(0);
      for (const [k, events] of Object.entries(got)) {
        expect(
          events.map((e) => e.token),
          k,
        ).toEqual(alone[k]!.tokens);
        expect(events.at(-1)!.finished).toBe('length');
        expect(events.slice(0, -1).every((e) => e.finished === null)).toBe(true);
        for (const [i, e] of events.entries()) expect(Math.abs(e.summary.logits[0]! - alone[k]!.steps.topLogits[i]![0]!), `${k} step ${i}`).toBeLessThan(1e-4);
      }
      expect(got.a!.map((e) => e.batchSize)).toEqual([1, 1, 1, 3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1]);
      expect(got.b!.map((e) => e.batchSize)).toEqual([3, 3, 3, 3, 3]);
    });

    it('a leave followed by a join feeds the cache a leave and then a join would, laid out in one copy', async () => {
      // Wrap the session to see every pass's feeds and outputs.
      const passes: { feeds: Record<string, ort.Tensor>; out: Record<string, ort.Tensor> }[] = [];
      const spy: DecodeModel = {
        ...dm,
        session: {
          inputNames: dm.session.inputNames,
          outputNames: dm.session.outputNames,
          run: async (feeds) => {
            const out = (await dm.session.run(feeds)) as Record<string, ort.Tensor>;
            passes.push({ feeds: feeds as Record<string, ort.Tensor>, out });
            return out;
          },
        },
      };
      const batch = new ContinuousBatch<string>(spy);
      const events: TokenEvent<string>[] = [];
      const on = (e: TokenEvent<string>) => events.push({ ...e, logits: e.logits.slice() });
      const long = greedy(
        Array.from({ length: 30 }, (_, i) => (i * 11) % 200),
        2,
      );
      const mid = greedy([7, 1, 30, 4, 5, 6], 6);
      const late = greedy([9, 9, 9, 4, 4, 4, 2, 2, 2, 1], 3); // longer than mid's cache: mid's row is padded
      await batch.join(
        [
          { tag: 'long', req: long },
          { tag: 'mid', req: mid },
        ],
        on,
      );
      await batch.step(on); // long's last token: it leaves, and its 31 positions with it
      expect(batch.tags()).toEqual(['mid']);
      expect(batch.cacheLength).toBe(7);
      await batch.join([{ tag: 'late', req: late }], on);
      expect(batch.cacheLength).toBe(10);
      await batch.step(on);
      const [, step1, prefill, step2] = passes;
      const heads = dm.numKvHeads;
      const key0 = (t: Record<string, ort.Tensor>, name: string) => t[name]!.data as Float32Array;
      // The reference: mid's row trimmed to its 7 positions, then placed beside late's 10 (zeros before mid's 7).
      const kept = assembleRows([{ data: key0(step1!.out, dm.presentKey(0)), batch: 2, length: 31, rows: [1] }], heads, dm.headDim, 7);
      const expected = assembleRows(
        [
          { data: kept, batch: 1, length: 7, rows: [0] },
          { data: key0(prefill!.out, dm.presentKey(0)), batch: 1, length: 10, rows: [0] },
        ],
        heads,
        dm.headDim,
        10,
      );
      expect(step2!.feeds[dm.pastKey(0)]!.dims).toEqual([2, heads, 10, dm.headDim]);
      expect(Buffer.from(key0(step2!.feeds, dm.pastKey(0)).buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      // The lazily computed summary and hash agree, and survive a spread copy of the event.
      for (const e of events) expect(e.hash).toBe(e.summary.hash);
      const alone = (await decode(dm, [late]))[0]!;
      expect(events.filter((e) => e.tag === 'late').map((e) => e.token)).toEqual(alone.tokens.slice(0, 2));
    });

    it('with buffers released as soon as the batch is done with them, members still get the tokens they get alone', async () => {
      let released = 0;
      const batch = new ContinuousBatch<string>(dm, {
        release: (view) => {
          released++;
          releaseBuffer(view);
        },
      });
      const reqs = { a: greedy([5, 17, 3, 99, 41], 12), b: greedy([8, 2, 60], 4), c: greedy([250, 3, 1, 1, 7, 7, 7], 7) };
      const tokens: Record<string, number[]> = { a: [], b: [], c: [] };
      const hashes: Record<string, string[]> = { a: [], b: [], c: [] };
      let late: TokenEvent<string> | null = null;
      const on = (e: TokenEvent<string>) => {
        tokens[e.tag]!.push(e.token);
        hashes[e.tag]!.push(e.hash);
        late = e;
      };
      await batch.join([{ tag: 'a', req: reqs.a }], on);
      await batch.step(on);
      await batch.join(
        [
          { tag: 'b', req: reqs.b },
          { tag: 'c', req: reqs.c },
        ],
        on,
      );
      while (batch.size > 0) await batch.step(on);
      expect(released).toBeGreaterThan(0);
      for (const [k, r] of Object.entries(reqs)) {
        const alone = (await decode(dm, [r]))[0]!;
        expect(tokens[k], k).toEqual(alone.tokens);
        if (k === 'a') expect(hashes[k]!.slice(0, 2)).toEqual(alone.steps.hash.slice(0, 2)); // alone until b and c join
      }
      // The last event's row was freed after its call: reading its summary now is refused, not answered from an empty row.
      expect(() => late!.summary).toThrow(/during the onToken call/);
    });

    it('a withdrawn member frees its row and the cache shrinks to the longest left', async () => {
      const batch = new ContinuousBatch<string>(dm);
      const tokens: Record<string, number[]> = { long: [], short: [] };
      const on = (e: TokenEvent<string>) => tokens[e.tag]!.push(e.token);
      const long = greedy(
        Array.from({ length: 40 }, (_, i) => (i * 7) % 200),
        20,
      );
      const short = greedy([4, 9], 6);
      await batch.join(
        [
          { tag: 'long', req: long },
          { tag: 'short', req: short },
        ],
        on,
      );
      expect(batch.cacheLength).toBe(40);
      await batch.step(on);
      expect(batch.withdraw((t) => t === 'long')).toEqual(['long']);
      expect(batch.tags()).toEqual(['short']);
      expect(batch.cacheLength).toBe(3);
      while (batch.size > 0) await batch.step(on);
      expect(tokens.short).toEqual((await decode(dm, [short]))[0]!.tokens);
    });
  });
}

describe('ContinuousBatch refuses what it cannot do', () => {
  const fake = (location: string): DecodeModel => ({
    makeTensor: (type, data, dims) => ({ type, data, dims }),
    numLayers: 1,
    numKvHeads: 1,
    headDim: 1,
    kvType: 'float32',
    hasPositionIds: true,
    padTokenId: 0,
    pastKey: () => 'pk',
    pastValue: () => 'pv',
    presentKey: () => 'k',
    presentValue: () => 'v',
    session: {
      inputNames: [],
      outputNames: [],
      run: async (feeds) => {
        const [n, s] = feeds.input_ids!.dims as [number, number];
        const kv = { type: 'float32', data: new Float32Array(n * s), dims: [n, 1, s, 1], location };
        return { logits: { type: 'float32', data: new Float32Array(n * s * 4).fill(1), dims: [n, s, 4] }, k: kv, v: kv };
      },
    },
  });

  it('a device-resident cache, teacher forcing, empty prompts and zero new tokens', async () => {
    const batch = new ContinuousBatch<number>(fake('gpu-buffer'));
    await expect(batch.join([{ tag: 1, req: greedy([1], 3) }], () => {})).rejects.toThrow(/needs "k" on the CPU, but it is on gpu-buffer/);
    expect(batch.size).toBe(0);
    const ok = new ContinuousBatch<number>(fake('cpu'));
    await expect(ok.join([{ tag: 1, req: { ...greedy([1], 3), teacherTokens: [1, 2, 3] } }], () => {})).rejects.toThrow(/teacher/);
    await expect(ok.join([{ tag: 1, req: greedy([], 3) }], () => {})).rejects.toThrow(/prompt token/);
    await expect(ok.join([{ tag: 1, req: greedy([1], 0) }], () => {})).rejects.toThrow(/new token/);
  });
});
