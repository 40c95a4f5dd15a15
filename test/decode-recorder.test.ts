import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeNodeTensor } from '../runners/node-cpu.ts';
import { SummaryRing } from '../runners/summary-ring.ts';
import { decode } from '../src/decode/loop.ts';
import { decodeModelFor } from '../src/decode/session-model.ts';
import type { DecodeModel, DecodeRequest } from '../src/decode/types.ts';
import { loadModel } from '../src/model/load.ts';
import { generateWithLoop } from '../src/runner/generate.ts';
import { specOf } from '../src/runner/spec.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let inline: DecodeModel;
let ringModel: DecodeModel;
let ring: SummaryRing;
let requests: DecodeRequest[];

beforeAll(async () => {
  const model = await loadModel(await tinyModelDir());
  const session = await ort.InferenceSession.create(model.onnxPath, { intraOpNumThreads: 1 });
  inline = decodeModelFor(session, specOf(model), makeNodeTensor);
  ringModel = decodeModelFor(session, specOf(model), makeNodeTensor);
  ring = await SummaryRing.start();
  ringModel.recorder = ring;
  requests = [
    { promptIds: model.tokenizer.encode('hello world'), maxNewTokens: 40, sampling: { kind: 'greedy' }, stopIds: [], topK: 5 },
    { promptIds: model.tokenizer.encode('x'), maxNewTokens: 25, sampling: { kind: 'sample', temperature: 0.9, topK: 0, topP: 0.9, seed: 4 }, stopIds: [], topK: 3 },
  ];
});

afterAll(async () => {
  await ring.close();
});

describe('recording on a worker thread (SummaryRing)', () => {
  it('gives exactly the in-line traces, batch rows and steps in order, beyond the ring size', async () => {
    const a = await decode(inline, requests);
    const b = await decode(ringModel, requests);
    expect(b.map((r) => r.steps)).toEqual(a.map((r) => r.steps));
    // And again, so the ring's counters restart cleanly between generations.
    expect((await decode(ringModel, requests)).map((r) => r.steps)).toEqual(a.map((r) => r.steps));
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
    const failed = await generateWithLoop(broken, requests.map((r) => ({ ...r, promptText: '' })));
    expect(failed.every((o) => o.status === 'errored')).toBe(true);
    const a = await decode(inline, requests);
    expect((await decode(ringModel, requests)).map((r) => r.steps)).toEqual(a.map((r) => r.steps));
  });
});
