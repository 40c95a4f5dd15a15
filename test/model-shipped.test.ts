import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeCpuOptions } from '../runners/node-cpu/manifest.ts';
import { nodeCpuRunner } from '../runners/node-cpu/runner.ts';
import { loadModel } from '../src/model/load.ts';

const dir = resolve('models/detbench-tiny');

describe('the shipped model, models/detbench-tiny', () => {
  it('passes the loader checks in fp32 and fp16, within the 30 MB budget', async () => {
    const fp32 = await loadModel(dir);
    const fp16 = await loadModel(dir, { onnxFile: 'onnx/model_fp16.onnx' });
    expect(fp32.config).toMatchObject({ modelType: 'gpt2', numLayers: 4, vocabSize: 4096 });
    expect(fp32.tokenizer.vocabSize).toBeGreaterThanOrEqual(4096);
    expect(fp32.io.hasPositionIds).toBe(true);
    expect(fp32.sizeBytes + fp16.sizeBytes).toBeLessThanOrEqual(30 * 1024 * 1024);
    expect(statSync(resolve(dir, 'README.md')).size).toBeGreaterThan(1000);
  });

  it('loads offline in transformers.js, which decodes the same greedy tokens as node-cpu', async () => {
    const tf = await import('@huggingface/transformers');
    tf.env.allowRemoteModels = false;
    tf.env.localModelPath = resolve('models');
    const model = await tf.AutoModelForCausalLM.from_pretrained('detbench-tiny', { dtype: 'fp32', device: 'cpu' });
    const tokenizer = await tf.AutoTokenizer.from_pretrained('detbench-tiny');
    const prompt = 'The module provides functions for';
    const ours = await loadModel(dir);
    const ids = ours.tokenizer.encode(prompt);
    // Both tokenizers read the same tokenizer.json.
    expect(Array.from((tokenizer(prompt) as { input_ids: { data: BigInt64Array } }).input_ids.data, Number)).toEqual(ids);

    const n = 12;
    const out = (await model.generate({
      input_ids: new tf.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      attention_mask: new tf.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
      max_new_tokens: n,
      min_new_tokens: n,
      do_sample: false,
    })) as { tolist(): bigint[][] };
    const theirs = out.tolist()[0]!.slice(ids.length).map(Number);

    const session = await nodeCpuRunner.open(ours, nodeCpuOptions.parse({}));
    try {
      const [r] = await session.generate([{ promptIds: ids, promptText: prompt, maxNewTokens: n, sampling: { kind: 'greedy' }, stopIds: [], topK: 5 }]);
      expect(r?.status).toBe('completed');
      expect(r?.status === 'completed' && r.generation.tokens).toEqual(theirs);
    } finally {
      await session.close();
    }
  });
});

describe('suites/smoke.yaml on the shipped model', () => {
  it('runs end to end through the CLI and renders a report', async () => {
    const { mkdtempSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { main } = await import('../cli/main.ts');
    const { readResults } = await import('../src/results/read.ts');
    const out = mkdtempSync(join(tmpdir(), 'detbench-smoke-'));
    const code = await main(['node', 'detbench', 'run', 'suites/smoke.yaml', '-o', out, '--report', join(out, 'report')]);
    process.exitCode = undefined;
    expect(code).toBe(0);
    const records = readResults(join(out, 'results.jsonl'));
    // 2 prompts x 2 settings x 2 repetitions x 2 runners, plus the second runner teacher-forced.
    expect(records).toHaveLength(24);
    expect(records.every((r) => r.status === 'completed')).toBe(true);
    expect(existsSync(join(out, 'report', 'index.html'))).toBe(true);
  });
});
