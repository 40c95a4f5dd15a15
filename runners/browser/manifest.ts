import { z } from 'zod';
import { defineRunner } from '../../src/runner-contract/manifest.ts';
import { graphOptimization, modelChoiceOf, modelFile, precision } from '../../src/runner-contract/options.ts';

/** What both browser runners share: where the browser is, the page harness, limits. */
const browserCommon = {
  graph_optimization: graphOptimization,
  precision,
  model_file: modelFile,
  chrome_path: z.string().optional().describe('Chrome/Chromium binary; default $CHROME_PATH, then /usr/bin/chromium, chromium-browser, google-chrome'),
  port: z.int().min(0).max(65535).default(0).describe('127.0.0.1 port of the page harness; 0 picks a free one'),
  batch_timeout_ms: z.int().min(1).default(600_000).describe('a batch running longer counts as a hung page: its records are errored and the page is restarted'),
  max_model_mb: z.int().min(1).default(2048).describe('larger ONNX files are refused (the page holds the file and the weights in a 4 GiB WebAssembly heap)'),
};

export const browserWasmOptions = z
  .object({
    threads: z.int().min(1).default(1).describe('onnxruntime-web wasm numThreads; >1 needs cross-origin isolation, which the harness serves'),
    simd: z.boolean().default(true).describe('onnxruntime-web 1.29 ships SIMD builds only; false is refused'),
    ...browserCommon,
  })
  .strict();

export const browserWebgpuOptions = z
  .object({
    power_preference: z.enum(['low-power', 'high-performance']).optional(),
    kv_on_gpu: z.boolean().default(true).describe('keep present.* on the GPU between steps (logits come back to the CPU)'),
    ...browserCommon,
  })
  .strict();

/** Parsed options of each browser runner. */
export interface BrowserOptionMap {
  'browser-wasm': z.output<typeof browserWasmOptions>;
  'browser-webgpu': z.output<typeof browserWebgpuOptions>;
}

/** onnxruntime-web's WebAssembly execution provider in headless Chromium. */
export const browserWasm = defineRunner({
  type: 'browser-wasm',
  options: browserWasmOptions,
  needsModel: true,
  canTeacherForce: true,
  serve: false,
  modelChoice: modelChoiceOf,
  threads: (o) => o.threads,
  load: async () => (await import('./runner.ts')).browserWasmRunner,
});

/** onnxruntime-web's WebGPU execution provider in headless Chromium (SwiftShader where there is no GPU). */
export const browserWebgpu = defineRunner({
  type: 'browser-webgpu',
  options: browserWebgpuOptions,
  needsModel: true,
  canTeacherForce: true,
  serve: false,
  modelChoice: modelChoiceOf,
  threads: () => 1,
  load: async () => (await import('./runner.ts')).browserWebgpuRunner,
});
