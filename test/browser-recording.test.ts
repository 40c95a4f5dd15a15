import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserHost, type HostConfig } from '../runners/browser/host.ts';
import type { PageRequest } from '../runners/browser/protocol.ts';
import { findChrome } from '../runners/browser/runner.ts';
import type { DecodeResult } from '../src/decode/types.ts';
import { loadModel } from '../src/model/load.ts';
import { specOf } from '../src/runner-contract/spec.ts';
import { recordingRequests } from './helpers/recording-requests.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

const chrome = findChrome(undefined);
const chromium = 'path' in chrome ? chrome.path : null;
if (!chromium) console.warn(`page recording tests skipped: ${'reason' in chrome ? chrome.reason : ''}`);
const spare = availableParallelism() > 1;
if (!spare) console.warn('page recording worker test skipped: one core, so the page records in line');

let hosts: BrowserHost[] = [];
let requests: PageRequest[];

async function host(inlineRecording: boolean): Promise<BrowserHost> {
  const model = await loadModel(await tinyModelDir());
  const config: HostConfig = {
    chromePath: chromium!,
    ep: 'wasm',
    numThreads: 1,
    simd: true,
    port: 0,
    timeoutMs: 120_000,
    modelPath: model.onnxPath,
    modelExternalData: model.externalData,
    open: { spec: specOf(model), graphOptimization: 'all', kvOnGpu: false },
    inlineRecording,
    // The tiny model's rows cost the loop little: by default the page would keep them all in line.
    recorderInlineBelow: 0,
  };
  const h = await BrowserHost.start(config);
  hosts.push(h);
  return h;
}

const steps = (rs: DecodeResult[]) => rs.map((r) => r.steps);

beforeAll(async () => {
  const model = await loadModel(await tinyModelDir());
  requests = recordingRequests((t) => model.tokenizer.encode(t));
});

afterAll(async () => {
  for (const h of hosts) await h.close();
  hosts = [];
});

describe.skipIf(!chromium || !spare)('recording on a Web Worker in the page', () => {
  it('gives exactly the in-line traces, and the session says where it recorded', async () => {
    const inline = await host(true);
    const worker = await host(false);
    expect(inline.session?.recording).toBe('inline');
    expect(worker.session?.recording).toBe('worker-thread+inline');
    const a = await inline.generate(requests);
    // Twice, so the ring's row numbers carry on cleanly from one generation to the next.
    expect(steps(await worker.generate(requests))).toEqual(steps(a));
    expect(steps(await worker.generate(requests))).toEqual(steps(a));
    const places = await worker.recordingPlaces();
    expect(places && places.worker + places.inline + places.taken + places.redone).toBe(2 * 65);
    expect(places?.worker).toBeGreaterThan(0);
    expect(await inline.recordingPlaces()).toBeNull();
  }, 180_000);
});
