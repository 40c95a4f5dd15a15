import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCpuOptions } from '../runners/node-cpu/manifest.ts';
import { nodeCpuRunner } from '../runners/node-cpu/runner.ts';
import { toExternalData } from '../scripts/tiny-model/external-data.ts';
import { loadModel } from '../src/model/load.ts';
import { readOnnxIO } from '../src/model/onnx-io.ts';
import type { LoadedModel } from '../src/model/types.ts';
import { detbenchRejection } from './helpers/errors.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let root: string;
let single: string;
let external: string;
let n = 0;

beforeAll(async () => {
  single = await tinyModelDir();
  external = await tinyModelDir('external-data');
  root = await mkdtemp(path.join(tmpdir(), 'detbench-external-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function copy(dir: string): Promise<string> {
  const to = path.join(root, `m${n++}`);
  await cp(dir, to, { recursive: true });
  return to;
}

async function greedySteps(model: LoadedModel) {
  const runner = await nodeCpuRunner.open(model, nodeCpuOptions.parse({}));
  try {
    const [out] = await runner.generate([
      { promptIds: model.tokenizer.encode('hello world'), promptText: 'hello world', maxNewTokens: 6, sampling: { kind: 'greedy' }, stopIds: [], topK: 3 },
    ]);
    if (out?.status !== 'completed') throw new Error(JSON.stringify(out));
    return out.generation.steps;
  } finally {
    await runner.close();
  }
}

describe('models whose weights live in external-data files', () => {
  it('the graph reader names the external files without reading them', async () => {
    expect((await readOnnxIO(path.join(external, 'onnx/model.onnx'))).externalData).toEqual(['model.onnx_data']);
    expect((await readOnnxIO(path.join(single, 'onnx/model.onnx'))).externalData).toEqual([]);
  });

  it('the model hash covers the graph and its weights, so other weights give another hash', async () => {
    const m = await loadModel(external);
    const graph = await readFile(path.join(external, 'onnx/model.onnx'));
    const data = await readFile(path.join(external, 'onnx/model.onnx_data'));
    expect(m.externalData).toEqual(['model.onnx_data']);
    expect(m.sha256).toBe(createHash('sha256').update(graph).update(data).digest('hex'));
    expect(m.sizeBytes).toBe(graph.length + data.length);

    const other = await copy(external);
    data[100] = data[100]! ^ 1;
    await writeFile(path.join(other, 'onnx/model.onnx_data'), data);
    expect((await loadModel(other)).sha256).not.toBe(m.sha256);
  });

  it('node-cpu computes bitwise the same logits as from the single-file model with the same weights', async () => {
    const a = await greedySteps(await loadModel(single));
    const b = await greedySteps(await loadModel(external));
    expect(b.token).toEqual(a.token);
    expect(b.hash).toEqual(a.hash);
  });

  it('a missing external file is MODEL_FILE_MISSING naming it', async () => {
    const dir = await copy(external);
    await unlink(path.join(dir, 'onnx/model.onnx_data'));
    const err = await detbenchRejection(loadModel(dir));
    expect(err.code).toBe('MODEL_FILE_MISSING');
    expect(err.file).toBe(path.join(dir, 'onnx/model.onnx_data'));
    expect(err.message).toContain('external data');
  });

  it('a location outside the model folder is refused as corrupt', async () => {
    const dir = await copy(single);
    const onnxPath = path.join(dir, 'onnx/model.onnx');
    const { model, data } = toExternalData(await readFile(onnxPath), '../../outside.bin');
    await writeFile(onnxPath, model);
    await writeFile(path.join(root, 'outside.bin'), data);
    const err = await detbenchRejection(loadModel(dir));
    expect(err.code).toBe('MODEL_CORRUPT');
    expect(err.file).toBe(onnxPath);
    expect(err.message).toContain('"../../outside.bin" lies outside');
  });
});
