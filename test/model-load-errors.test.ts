import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetbenchError } from '../src/errors.ts';
import { type LoadModelOptions, loadModel } from '../src/model/load.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let root: string;
let source: string;
let n = 0;

beforeAll(async () => {
  source = await tinyModelDir();
  root = await mkdtemp(path.join(tmpdir(), 'detbench-load-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** A fresh copy of the tiny model to break. */
async function copy(): Promise<string> {
  const dir = path.join(root, `m${n++}`);
  await cp(source, dir, { recursive: true });
  return dir;
}

async function editJson(file: string, edit: (x: Record<string, unknown>) => void): Promise<void> {
  const x = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(x);
  await writeFile(file, JSON.stringify(x));
}

/** Loads `dir` and returns the DetbenchError it must throw. */
async function failure(dir: string, options?: LoadModelOptions): Promise<DetbenchError> {
  const err: unknown = await loadModel(dir, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DetbenchError);
  return err as DetbenchError;
}

describe('loadModel', () => {
  it('loads the tiny model', async () => {
    const m = await loadModel(source);
    expect(m.onnxFile).toBe('onnx/model.onnx');
    expect(m.onnxPath).toBe(path.join(source, 'onnx/model.onnx'));
    expect(m.name).toBe('tiny-model');
    const bytes = await readFile(m.onnxPath);
    expect(m.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(m.sizeBytes).toBe(bytes.length);
    expect(m.config).toMatchObject({ modelType: 'gpt2', numLayers: 2, numHeads: 4, numKvHeads: 4, headDim: 16, hiddenSize: 64 });
    expect(m.config.eosTokenIds).toEqual([m.config.vocabSize - 1]);
    expect(m.io.hasPositionIds).toBe(true);
    expect(m.io.pastKeyNames).toEqual(['past_key_values.0.key', 'past_key_values.1.key']);
    expect(m.io.presentValueNames).toEqual(['present.0.value', 'present.1.value']);
    expect(m.io.outputNames[0]).toBe('logits');
    expect(m.tokenizer.vocabSize).toBe(m.config.vocabSize);
    const text = 'The quick brown fox, héllo 🙂';
    const ids = m.tokenizer.encode(text);
    expect(ids.length).toBeLessThan(new TextEncoder().encode(text).length);
    expect(m.tokenizer.decode(ids)).toBe(text);
    expect(m.tokenizer.tokenText(ids[0]!)).toBe('The');
    expect(m.tokenizer.encode('<|endoftext|>')).toEqual(m.config.eosTokenIds);
    expect(m.chatTemplate).toContain('messages');
  });

  it('loads the grouped-query, no-position-ids and padded-vocab variants', async () => {
    const gqa = await loadModel(await tinyModelDir('gqa'));
    expect(gqa.config).toMatchObject({ numHeads: 4, numKvHeads: 2, headDim: 16 });
    expect((await loadModel(await tinyModelDir('no-position-ids'))).io.hasPositionIds).toBe(false);
    // Fewer tokens than vocab_size is fine: embedding tables are often padded.
    const padded = await loadModel(await tinyModelDir('padded-vocab'));
    expect(padded.config.vocabSize).toBe(512);
    expect(padded.tokenizer.vocabSize).toBeLessThan(512);
  });

  it.each(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'])('reports a missing %s', async (name) => {
    const dir = await copy();
    await unlink(path.join(dir, name));
    const err = await failure(dir);
    expect(err.code).toBe('MODEL_FILE_MISSING');
    expect(err.message).toContain(path.join(dir, name));
    expect(err.file).toBe(path.join(dir, name));
  });

  it('reports a missing custom onnx file by its path', async () => {
    const err = await failure(source, { onnxFile: 'onnx/model_fp16.onnx' });
    expect(err.code).toBe('MODEL_FILE_MISSING');
    expect(err.message).toContain(path.join(source, 'onnx/model_fp16.onnx'));
  });

  it.each([
    ['text instead of protobuf', async (f: string) => writeFile(f, 'this is not an onnx model\n')],
    ['a truncated file', async (f: string) => truncate(f, 100_000)],
    ['an empty file', async (f: string) => writeFile(f, '')],
  ])('reports a corrupt onnx file: %s', async (_label, damage) => {
    const dir = await copy();
    const onnx = path.join(dir, 'onnx/model.onnx');
    await damage(onnx);
    const err = await failure(dir);
    expect(err.code).toBe('MODEL_CORRUPT');
    expect(err.message).toContain(onnx);
  });

  it.each([
    ['layer count', { n_layer: 3 }, { field: 'num_hidden_layers', config: 3, graph: 2 }, { numLayers: 2 }],
    ['kv heads', { num_key_value_heads: 2 }, { field: 'num_key_value_heads', config: 2, graph: 4 }, { numKvHeads: 4 }],
    ['head dim', { head_dim: 8 }, { field: 'head_dim', config: 8, graph: 16 }, { headDim: 16 }],
    ['head dim from hidden size', { n_embd: 128 }, { field: 'head_dim', config: 32, graph: 16 }, { headDim: 16 }],
    ['vocab size', { vocab_size: 400 }, { field: 'vocab_size', config: 400, graph: 457 }, { vocabSize: 457 }],
  ])('uses the graph where config.json disagrees, and says so: %s', async (_label, patch, override, fixed) => {
    const dir = await copy();
    await editJson(path.join(dir, 'config.json'), (c) => Object.assign(c, patch));
    const m = await loadModel(dir);
    expect(m.config).toMatchObject(fixed);
    expect(m.overrides).toHaveLength(1);
    expect(m.overrides[0]).toMatchObject(override);
    expect(m.overrides[0]!.note).toContain(path.join(dir, 'onnx/model.onnx'));
    expect(m.overrides[0]!.note).toContain(path.join(dir, 'config.json'));
  });

  it('accepts a tokenizer with more tokens than the logits, and says only ids below the logits are fed', async () => {
    const dir = await copy();
    const tokenizer = path.join(dir, 'tokenizer.json');
    await editJson(tokenizer, (t) => {
      const added = t.added_tokens as object[];
      const extra = { single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
      added.push({ ...extra, id: 457, content: '<|extra_0|>' }, { ...extra, id: 458, content: '<|extra_1|>' });
    });
    const m = await loadModel(dir);
    expect(m.tokenizer.vocabSize).toBe(459);
    expect(m.config.vocabSize).toBe(457);
    expect(m.notes).toEqual([
      `${tokenizer} has 459 tokens but the logits of ${path.join(dir, 'onnx/model.onnx')} have 457: only ids below 457 can be fed or generated; a prompt with a larger id is refused`,
    ]);
  });

  it('refuses an input it cannot feed, naming the input', async () => {
    const dir = await copy();
    const onnx = path.join(dir, 'onnx/model.onnx');
    const bytes = await readFile(onnx);
    // Rename a graph input (everywhere) to a name detbench does not know; the same length keeps the protobuf valid.
    const from = Buffer.from('position_ids');
    let renamed = 0;
    for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1), renamed++) Buffer.from('position_idz').copy(bytes, at);
    expect(renamed).toBeGreaterThan(0);
    await writeFile(onnx, bytes);
    const err = await failure(dir);
    expect(err.code).toBe('MODEL_IO_MISMATCH');
    expect(err.message).toContain(onnx);
    expect(err.message).toMatch(/input "position_idz" \(int64 \[batch_size, sequence_length\]\) is not one detbench can feed/);
  });

  it('reports unparseable config.json and tokenizer.json', async () => {
    const dir = await copy();
    await writeFile(path.join(dir, 'config.json'), '{ "model_type": ');
    expect(await failure(dir)).toMatchObject({ code: 'MODEL_CONFIG_INVALID', file: path.join(dir, 'config.json') });
    const dir2 = await copy();
    await writeFile(path.join(dir2, 'tokenizer.json'), '[]');
    expect(await failure(dir2)).toMatchObject({ code: 'MODEL_TOKENIZER_INVALID', file: path.join(dir2, 'tokenizer.json') });
  });
});
