import { existsSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { loadModel } from '../src/model/load.ts';
import { detbenchRejection } from './helpers/errors.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let root: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'detbench-paths-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** A fresh copy of a tiny model, with `file` (relative) replaced by a folder. */
async function withFolderAt(file: string, variant: 'default' | 'external-data' = 'default'): Promise<string> {
  const dir = path.join(root, `m${n++}`);
  await cp(await tinyModelDir(variant), dir, { recursive: true });
  await rm(path.join(dir, file));
  await mkdir(path.join(dir, file));
  return dir;
}

describe('model files that are folders', () => {
  it.each(['onnx/model.onnx', 'config.json', 'tokenizer.json', 'generation_config.json'])('%s as a folder is MODEL_FILE_INVALID, not EISDIR', async (file) => {
    const dir = await withFolderAt(file);
    const err = await detbenchRejection(loadModel(dir));
    expect(err.code).toBe('MODEL_FILE_INVALID');
    expect(err.message).toBe(`${path.join(dir, file)}: is a folder (or another non-file); expected a file`);
  });

  it('an external-data file as a folder is MODEL_FILE_INVALID', async () => {
    const dir = await withFolderAt('onnx/model.onnx_data', 'external-data');
    expect((await detbenchRejection(loadModel(dir))).code).toBe('MODEL_FILE_INVALID');
  });
});

describe('a model file outside the model folder', () => {
  it.each(['../../../../etc/passwd', '/etc/passwd', 'onnx/../../outside.onnx'])('%s is MODEL_FILE_OUTSIDE, and nothing is read', async (onnxFile) => {
    const dir = await tinyModelDir();
    const err = await detbenchRejection(loadModel(dir, { onnxFile }));
    expect(err.code).toBe('MODEL_FILE_OUTSIDE');
    expect(err.message).toBe(`${onnxFile}: lies outside the model folder ${dir}; expected a file inside it`);
  });

  it('a path that climbs back inside the folder still loads', async () => {
    const model = await loadModel(await tinyModelDir(), { onnxFile: 'onnx/../onnx/model.onnx' });
    expect(model.config.maxPositions).toBe(256);
  });
});

describe('a results path that is a folder', () => {
  it.each([false, true])('is OUTPUT_UNWRITABLE (resume: %s), and the folder is left alone', async (resume) => {
    const model = await tinyModelDir();
    const suiteFile = path.join(root, `suite-${n++}.yaml`);
    await writeFile(suiteFile, `id: s\nmodel: ${model}\nprompts: [{ text: hi }]\nmax_new_tokens: 2\nrepetitions: 1\nrunners: [{ id: a, type: node-cpu }]\n`);
    const outFile = path.join(root, `out-${n++}`, 'results.jsonl');
    await mkdir(path.join(outFile, 'inner'), { recursive: true });
    const err = await detbenchRejection(runSuite({ suiteFile, outFile, resume }));
    expect(err.code).toBe('OUTPUT_UNWRITABLE');
    expect(err.message).toContain(`${outFile}: is a folder`);
    expect(err.message).not.toContain('results file exists');
    expect(statSync(outFile).isDirectory()).toBe(true);
    expect(existsSync(path.join(outFile, 'inner'))).toBe(true);
  });
});
