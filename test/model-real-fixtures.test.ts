import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findChrome } from '../runners/browser/chrome.ts';
import { manifestOf, RUNNERS, type RunnerType } from '../runners/index.ts';
import { ContinuousBatch } from '../src/decode/continuous.ts';
import { type LoadModelOptions, loadModel } from '../src/model/load.ts';
import type { LoadedModel } from '../src/model/types.ts';
import { probeSession } from '../src/probe/probe.ts';
import { probePrompts, probeTolerance } from '../src/probe/prompts.ts';
import type { RunnerManifest } from '../src/runner-contract/manifest.ts';
import type { Runner, RunnerSession } from '../src/runner-contract/types.ts';

/**
 * Real decoders that other tools exported (../shared/real-models/, read-only; see its README):
 * each loads as it is, is described as the graph says, and passes the probe (KV cache against a
 * full recomputation, a padded row against the same request alone) on every local runner here.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REAL = path.join(ROOT, '..', 'shared', 'real-models');
const present = existsSync(REAL);
if (!present)
  console.warn(`real-model fixtures skipped: ${REAL} does not exist (it holds ONNX decoders from other tools; see the README, "Bringing your own model")`);

interface Fixture {
  folder: string;
  options?: LoadModelOptions;
  expect: Partial<Omit<LoadedModel, 'precision'>> & { precision?: string };
}

const FIXTURES: Fixture[] = [
  {
    folder: 'ort-genai-tiny-llama-fp16',
    expect: { layout: 'genai', onnxFile: 'model.onnx', externalData: ['model.onnx.data'], precision: 'fp16', overrides: [], notes: [] },
  },
  { folder: 'ort-genai-tiny-llama-fp32-gqa', expect: { layout: 'genai', onnxFile: 'model.onnx', precision: 'fp32', notes: [] } },
  { folder: 'ort-genai-tiny-phi3-gqa-fp16', expect: { layout: 'genai', onnxFile: 'model.onnx', precision: 'fp16', overrides: [], notes: [] } },
  { folder: 'ort-legacy-tiny-gpt2-fp32', expect: { layout: 'genai', onnxFile: 'past.onnx', precision: 'fp32', overrides: [] } },
  { folder: 'hf-layout-tiny-llama-q4', expect: { layout: 'hf', onnxFile: 'onnx/model.onnx', dtype: 'fp32', precision: 'fp32', overrides: [], notes: [] } },
  {
    folder: 'hf-layout-tiny-llama-q4',
    options: { precision: 'q4' },
    expect: {
      layout: 'hf',
      onnxFile: 'onnx/model_q4.onnx',
      dtype: 'q4',
      precision: 'q4 (MatMulNBits 4-bit, block 16), fp32 compute',
      overrides: [],
      notes: [],
    },
  },
];

const label = (f: Fixture) => f.folder + (f.options?.precision ? ` (${f.options.precision})` : '');

describe.skipIf(!present)('real models: what detbench reads', () => {
  it.each(FIXTURES.map((f) => [label(f), f] as const))('%s', async (_label, f) => {
    const m = await loadModel(path.join(REAL, f.folder), f.options);
    const { precision, ...rest } = f.expect;
    expect(m).toMatchObject(rest);
    expect(m.precision.summary).toBe(precision);
  });

  it('reads the GenAI layout: dimensions from genai_config.json, the graph winning where it disagrees', async () => {
    const dir = path.join(REAL, 'ort-genai-tiny-llama-fp32-gqa');
    const m = await loadModel(dir);
    expect(m.config).toMatchObject({
      modelType: 'llama',
      numLayers: 2,
      numHeads: 1,
      numKvHeads: 1,
      headDim: 16,
      vocabSize: 32000,
      maxPositions: 2048,
      eosTokenIds: [1],
    });
    // genai_config.json names a position_ids input the graph does not have: none is fed, and the record says so.
    expect(m.overrides).toEqual([
      {
        field: 'model.decoder.inputs.position_ids',
        config: 'position_ids',
        graph: null,
        note: `${path.join(dir, 'model.onnx')} has no "position_ids" input: none is fed`,
      },
    ]);
    expect(m.io).toMatchObject({
      hasPositionIds: false,
      padding: 'right',
      cacheLayout: 'separate',
      kvType: 'float32',
      pastKeyNames: ['past_key_values.0.key', 'past_key_values.1.key'],
    });
    expect(m.sources.find((s) => s.fact === 'ONNX file')).toEqual({ fact: 'ONNX file', from: `${path.join(dir, 'genai_config.json')} model.decoder.filename` });
  });

  it('feeds the legacy GPT-2 interface: int32 ids, one combined past_N per layer; its tokenizer is larger than its logits', async () => {
    const dir = path.join(REAL, 'ort-legacy-tiny-gpt2-fp32');
    const m = await loadModel(dir);
    expect(m.io).toMatchObject({
      cacheLayout: 'combined',
      padding: 'left',
      inputTypes: { input_ids: 'int32', attention_mask: 'int32', position_ids: 'int32' },
      pastKeyNames: ['past_0', 'past_1', 'past_2', 'past_3', 'past_4'],
      presentKeyNames: ['present_0', 'present_1', 'present_2', 'present_3', 'present_4'],
      pastValueNames: [],
    });
    expect(m.config).toMatchObject({ numLayers: 5, numKvHeads: 4, headDim: 8, vocabSize: 1000 });
    // tokenizer.json's 50,257 entries plus the 38 added tokens of tokenizer_config.json.
    expect(m.tokenizer.vocabSize).toBe(50295);
    expect(m.notes).toEqual([
      `${path.join(dir, 'tokenizer.json')} has 50295 tokens but the logits of ${path.join(dir, 'past.onnx')} have 1000: only ids below 1000 can be fed or generated; a prompt with a larger id is refused`,
    ]);
  });

  it('reads a tokenizer.json without decoder, normalizer, pre_tokenizer and post_processor (phi3 fixture)', async () => {
    const m = await loadModel(path.join(REAL, 'ort-genai-tiny-phi3-gqa-fp16'));
    expect(m.tokenizer.encode('Hi')).toEqual([72, 105]);
    expect(m.specialTokens).toEqual({ bos_token: '<pad>', eos_token: '<eos>', pad_token: '<pad>' });
  });

  it('refuses a precision whose file is missing, naming the file', async () => {
    const dir = path.join(REAL, 'hf-layout-tiny-llama-q4');
    const err = await loadModel(dir, { precision: 'fp16' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MODEL_FILE_MISSING', file: path.join(dir, 'onnx/model_fp16.onnx') });
    expect((err as Error).message).toBe(
      `${path.join(dir, 'onnx/model_fp16.onnx')}: missing from model folder ${dir} (precision fp16 loads onnx/model_fp16.onnx or onnx/decoder_model_merged_fp16.onnx)`,
    );
    const genai = await loadModel(path.join(REAL, 'ort-genai-tiny-llama-fp16'), { precision: 'q4' }).catch((e: unknown) => e);
    expect(genai).toMatchObject({ code: 'MODEL_FILE_MISSING', field: 'precision' });
  });
});

/**
 * The local runners to probe on, with the options that make them run here and the fixtures each
 * takes: node-webgpu runs on SwiftShader here (about 50 s per fixture even at 4 steps), so it takes
 * the two GroupQueryAttention graphs that matter most and the legacy interface.
 */
const RUNNER_CASES: { type: RunnerType; raw: Record<string, unknown>; fixtures: Fixture[]; steps: number }[] = [
  { type: 'node-cpu', raw: { intra_op_threads: 1 }, fixtures: FIXTURES, steps: 8 },
  { type: 'browser-wasm', raw: { threads: 1 }, fixtures: FIXTURES, steps: 8 },
  {
    type: 'node-webgpu',
    raw: { vulkan_icd: 'swiftshader' },
    fixtures: FIXTURES.filter((f) => ['ort-genai-tiny-llama-fp32-gqa', 'ort-legacy-tiny-gpt2-fp32', 'ort-genai-tiny-phi3-gqa-fp16'].includes(f.folder)),
    steps: 4,
  },
];

/** A WebGPU device without shader-f16 (SwiftShader) cannot run an fp16 graph: onnxruntime refuses it when the session first runs. */
const NO_F16 = /requires f16 but the device does not support it/;

describe.skipIf(!present).each(RUNNER_CASES)('real models: the probe on $type', ({ type, raw, fixtures, steps }) => {
  // Any manifest: its parsed options go to its own runner.
  const manifest: RunnerManifest = manifestOf(type);
  const options = manifest.options.parse(raw);
  let runner: Runner<typeof options> | undefined;
  let reason = '';
  const sessions: RunnerSession[] = [];
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => {});
  });

  it.each(fixtures.map((f) => [label(f), f] as const))(
    '%s: KV cache = recompute, padded row = alone',
    async (_label, f) => {
      runner ??= await manifest.load();
      if (!reason) {
        const probe = await runner.probe(options);
        if (!probe.available) reason = probe.reason;
      }
      if (type === 'browser-wasm' && !('path' in findChrome(undefined))) reason ||= 'no Chromium';
      if (reason) {
        console.warn(`${type} skipped for ${label(f)}: ${reason}`);
        return;
      }
      const m = await loadModel(path.join(REAL, f.folder), f.options);
      let session: RunnerSession;
      try {
        session = await runner.open(m, options);
      } catch (err) {
        // Where the device itself cannot run the graph, say so; anything else is a failure.
        if (type === 'node-webgpu' && m.precision.compute === 'float16' && NO_F16.test((err as Error).message)) {
          console.warn(`node-webgpu cannot run ${label(f)} here: ${(err as Error).message}`);
          return;
        }
        throw err;
      }
      sessions.push(session);
      const report = await probeSession(session, { ...probePrompts(m), steps, tolerance: probeTolerance(m) });
      expect(report.checks.map((c) => [c.id, c.tokensEqual, c.pass])).toEqual([
        ['kv-cache-vs-recompute', true, true],
        ['padded-vs-alone', true, true],
      ]);
      await session.close();
      sessions.pop();
    },
    240_000,
  );
});

describe.skipIf(!present)('real models: the GroupQueryAttention padding bug, reproduced', () => {
  it('left padding (what detbench did) breaks a GQA row from the first step; the probe catches it', async () => {
    const m = await loadModel(path.join(REAL, 'ort-genai-tiny-llama-fp32-gqa'));
    const nodeCpu = manifestOf('node-cpu');
    const runner = await nodeCpu.load();
    const options = nodeCpu.options.parse({ intra_op_threads: 1 });
    const wrong = await runner.open({ ...m, io: { ...m.io, padding: 'left' } }, options);
    const right = await runner.open(m, options);
    try {
      const prompts = probePrompts(m);
      const bad = await probeSession(wrong, { ...prompts, tolerance: probeTolerance(m) });
      const padded = bad.checks.find((c) => c.id === 'padded-vs-alone')!;
      expect(padded.pass).toBe(false);
      expect(padded.maxRelDiff).toBeGreaterThan(1e-3);
      const good = await probeSession(right, { ...prompts, tolerance: probeTolerance(m) });
      // Right padding: the padded row is bitwise the row alone, every step.
      expect(good.checks.find((c) => c.id === 'padded-vs-alone')).toMatchObject({ pass: true, bitwiseSteps: 16, steps: 16, maxRelDiff: 0 });
    } finally {
      await wrong.close();
      await right.close();
    }
  });
});

describe.skipIf(!present)('real models: continuous batching refuses what it cannot feed', () => {
  it.each([
    ['ort-genai-tiny-llama-fp32-gqa', /needs right-padded rows/],
    ['ort-legacy-tiny-gpt2-fp32', /one combined tensor per layer/],
  ])('%s', async (folder, why) => {
    const m = await loadModel(path.join(REAL, folder));
    const nodeCpu = manifestOf('node-cpu');
    const session = await (await nodeCpu.load()).open(m, nodeCpu.options.parse({}));
    try {
      expect(ContinuousBatch.refusal(session.decodeModel!)).toMatch(why);
      expect(() => new ContinuousBatch(session.decodeModel!)).toThrow(why);
    } finally {
      await session.close();
    }
  });
});

describe.skipIf(!present)('real models: detbench serve', () => {
  it('a GroupQueryAttention folder: continuous batching refused at start, static batching rows equal the rows alone, chat gets <s>', async () => {
    const { openEngine } = await import('../src/serve/engine.ts');
    const engine = await openEngine({
      runners: RUNNERS,
      modelDir: path.join(REAL, 'ort-genai-tiny-llama-fp32-gqa'),
      runner: 'node-cpu',
      batching: { mode: 'static', maxBatch: 2, windowMs: 0 },
    });
    try {
      expect(() => engine.openBatch()).toThrow(/continuous batching cannot feed this graph: its attention \(GroupQueryAttention\) needs right-padded rows/);
      const chat = engine.encodeChat([{ role: 'user', content: 'Hello, world' }]);
      expect(chat[0]).toBe(1);
      const req = (ids: number[]) => ({ promptIds: ids, maxNewTokens: 6, sampling: { kind: 'greedy' as const }, stopIds: [], topK: 3 });
      const short = engine.encodePrompt('Hi');
      const long = engine.encodePrompt('The quick brown fox jumps over the lazy dog');
      const [alone] = await engine.decodeBatch([req(short)], () => {});
      const [, batched] = await engine.decodeBatch([req(long), req(short)], () => {});
      expect(batched!.tokens).toEqual(alone!.tokens);
      expect(batched!.steps.hash).toEqual(alone!.steps.hash);
    } finally {
      await engine.close();
    }
  });
});
