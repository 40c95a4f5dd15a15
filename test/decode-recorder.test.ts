import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeNodeTensor } from '../runners/node-cpu/runner.ts';
import { recordingPlan } from '../runners/ort-node/session.ts';
import { SummaryRing, type SummaryRingOptions } from '../runners/recording/summary-ring.ts';
import { CTRL } from '../runners/recording/summary-ring-layout.ts';
import { summarizeRow } from '../src/decode/logits.ts';
import { decode } from '../src/decode/loop.ts';
import { Mt19937 } from '../src/decode/mt19937.ts';
import { decodeModelFor } from '../src/decode/session-model.ts';
import type { DecodeModel, DecodeRequest } from '../src/decode/types.ts';
import { loadModel } from '../src/model/load.ts';
import { generateBatch } from '../src/runner-contract/generate-batch.ts';
import { generateWithLoop } from '../src/runner-contract/generate-with-loop.ts';
import { specOf } from '../src/runner-contract/spec.ts';
import { releaseBuffer } from '../src/serve/release.ts';
import { recordingRequests } from './helpers/recording-requests.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let inline: DecodeModel;
let ringModel: DecodeModel;
let ring: SummaryRing;
let requests: DecodeRequest[];
let session: ort.InferenceSession;
let spec: ReturnType<typeof specOf>;
let promptIds: number[];

beforeAll(async () => {
  const model = await loadModel(await tinyModelDir());
  session = await ort.InferenceSession.create(model.onnxPath, { intraOpNumThreads: 1 });
  spec = specOf(model);
  promptIds = model.tokenizer.encode('a b');
  inline = decodeModelFor(session, specOf(model), makeNodeTensor);
  ringModel = decodeModelFor(session, specOf(model), makeNodeTensor);
  // Rows of the tiny model cost the loop little: without inlineBelow 0 it would keep them all in line.
  ring = await SummaryRing.start({ inlineBelow: 0 });
  ringModel.recorder = ring;
  requests = recordingRequests((t) => model.tokenizer.encode(t));
});

afterAll(async () => {
  await ring.close();
});

/** Decodes `reqs` through a fresh ring started with `options`, then closes it; with where its rows went. */
async function throughRing(options: SummaryRingOptions, reqs: DecodeRequest[]) {
  const other = await SummaryRing.start({ inlineBelow: 0, ...options });
  try {
    const results = await decode({ ...decodeModelFor(session, spec, makeNodeTensor), recorder: other }, reqs);
    return Object.assign(results, { places: other.places() });
  } finally {
    await other.close();
  }
}

describe('recording on a worker thread (SummaryRing)', () => {
  it('gives exactly the in-line traces, batch rows and steps in order, beyond the ring size', async () => {
    const a = await decode(inline, requests);
    const b = await decode(ringModel, requests);
    expect(b.map((r) => r.steps)).toEqual(a.map((r) => r.steps));
    // And again, so the ring's counters restart cleanly between generations.
    expect((await decode(ringModel, requests)).map((r) => r.steps)).toEqual(a.map((r) => r.steps));
  });

  it('gives the same traces whether the worker polls often, rarely, or sleeps until notified', async () => {
    const a = await decode(inline, requests);
    for (const pollMs of [0, 0.05, 20]) expect((await throughRing({ pollMs }, requests)).map((r) => r.steps)).toEqual(a.map((r) => r.steps));
  });

  it('gives the same traces when the loop summarises rows itself: at push, and at the end for rows the worker has not started', async () => {
    const a = await decode(inline, requests);
    // A worker that looks for rows every 20 ms, with one row allowed to wait: the loop does most rows in line.
    const behind = await throughRing({ pollMs: 20, maxWaiting: 1 }, requests);
    expect(behind.map((r) => r.steps)).toEqual(a.map((r) => r.steps));
    expect(behind.places.inline).toBeGreaterThan(0);
    expect(behind.places.worker + behind.places.inline + behind.places.taken + behind.places.redone).toBe(65);
    // Rows may wait as long as the ring has room: at the end the loop takes those the worker has not started.
    const queued = await throughRing({ pollMs: 20, maxWaiting: 32 }, requests);
    expect(queued.map((r) => r.steps)).toEqual(a.map((r) => r.steps));
    expect(queued.places.taken).toBeGreaterThan(0);
    expect(queued.places.worker + queued.places.inline + queued.places.taken + queued.places.redone).toBe(65);
  });

  it('keeps rows in line that cost the loop little, timing the first of every 64, with the same traces', async () => {
    const a = await decode(inline, requests);
    // Any summary counts as cheap: after the first row (timed in line) every row stays in line.
    const cheap = await throughRing({ inlineBelow: 1e9 }, requests);
    expect(cheap.map((r) => r.steps)).toEqual(a.map((r) => r.steps));
    expect(cheap.places).toEqual({ worker: 0, inline: 65, taken: 0, redone: 0 });
  });

  it('summarises in line what does not fit when one step queues more rows than the ring holds', async () => {
    // 40 rows in one batch: the loop pushes 40 rows per step into a 32-row ring.
    const wide = Array.from(
      { length: 40 },
      (_, i): DecodeRequest => ({
        promptIds: promptIds.slice(0, 1 + (i % 2)),
        maxNewTokens: 3,
        sampling: { kind: 'sample', temperature: 1, topK: 0, topP: 1, seed: i },
        stopIds: [],
        topK: 4,
      }),
    );
    const a = await decode(inline, wide);
    const b = await throughRing({ pollMs: 2, maxWaiting: 32 }, wide);
    expect(b.map((r) => r.steps)).toEqual(a.map((r) => r.steps));
    // The ring holds 32 rows: the loop summarised the rest of each step in line.
    expect(b.places.inline).toBeGreaterThan(0);
  });

  it('does the row the worker is still on itself at the end, and never reads the late result, even once the slot is refilled', async () => {
    // A drain that does not wait at all, and rows of 1M logits (a millisecond or two on the worker's
    // step kernel, about 1.6 ns per logit).
    const other = await SummaryRing.start({ patienceMs: 0, inlineBelow: 0 });
    const claimed = () => Atomics.load((other as unknown as { ctrl: Int32Array }).ctrl, CTRL.CLAIMED);
    try {
      const rows = [1, 2, 3].map((seed) => {
        const rng = new Mt19937(seed);
        return Float32Array.from({ length: 1_000_000 }, () => (rng.random() - 0.5) * 30);
      });
      for (const [i, row] of rows.entries()) {
        expect(other.push(row, 4)).toBeUndefined();
        // Once the worker has started the row, the drain finds it unfinished and does it itself.
        while (claimed() === i) await new Promise((r) => setTimeout(r, 0));
        expect(await other.drain()).toEqual([summarizeRow(row, 4)]);
      }
      const places = other.places();
      expect(places.worker + places.redone).toBe(3);
      expect(places.redone).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  }, 60_000);

  it("gives the same traces with each step's logits and replaced cache freed at once (detached), in line and on the ring", async () => {
    const a = await decode(inline, requests);
    const freed: number[] = [];
    const release = (data: ArrayBufferView) => {
      freed.push(data.byteLength);
      releaseBuffer(data);
    };
    expect((await decode({ ...inline, release }, requests)).map((r) => r.steps)).toEqual(a.map((r) => r.steps));
    // 40 steps (the longer request): each step's logits; the cache fed to steps 1..38 once the next
    // one replaced it (step 0's is the empty one, the last step's is never replaced).
    expect(freed.length).toBe(40 + 38 * 2 * inline.numLayers);
    expect((await decode({ ...ringModel, release }, requests)).map((r) => r.steps)).toEqual(a.map((r) => r.steps));
  });

  it('refuses more candidates than its result slots hold, before queueing anything', async () => {
    const other = await SummaryRing.start();
    try {
      expect(() => other.push(new Float32Array(8), 101)).toThrow(/at most 100 candidates, not 101/);
    } finally {
      await other.close();
    }
  });

  it('fails loudly once closed instead of hanging the loop', async () => {
    const other = await SummaryRing.start();
    other.push(new Float32Array(8), 2);
    await other.close();
    expect(() => other.push(new Float32Array(8), 2)).toThrow(/closed/);
    await expect(other.drain()).rejects.toThrow(/closed/);
  });

  it("runs on a worker only when a core is left over after onnxruntime's threads", () => {
    expect(recordingPlan(2, 1)).toBe('worker-thread+inline');
    expect(recordingPlan(16, 8)).toBe('worker-thread+inline');
    expect(recordingPlan(2, 2)).toBe('inline');
    expect(recordingPlan(1, 1)).toBe('inline');
    // 0: onnxruntime picks its own thread count, one per core.
    expect(recordingPlan(8, 0)).toBe('inline');
  });

  it('drops the rows of a failed batch so the next generation lines up', async () => {
    const broken: DecodeModel = {
      ...ringModel,
      session: {
        inputNames: ringModel.session.inputNames,
        outputNames: ringModel.session.outputNames,
        run: (() => {
          let n = 0;
          return async (feeds) => {
            if (++n > 3) throw new Error('backend failed mid-generation');
            return ringModel.session.run(feeds);
          };
        })(),
      },
    };
    const failed = await generateBatch(
      { generate: (rs) => generateWithLoop(broken, rs) },
      requests.map((r) => ({ ...r, promptText: '' })),
    );
    expect(failed.every((o) => o.status === 'errored')).toBe(true);
    const a = await decode(inline, requests);
    expect((await decode(ringModel, requests)).map((r) => r.steps)).toEqual(a.map((r) => r.steps));
  });
});
