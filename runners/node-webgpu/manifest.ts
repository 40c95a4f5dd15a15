import { z } from 'zod';
import { defineRunner } from '../../src/runner-contract/manifest.ts';
import { graphOptimization, modelChoiceOf, modelFile, precision } from '../../src/runner-contract/options.ts';

export const nodeWebgpuOptions = z
  .object({
    vulkan_icd: z
      .string()
      .min(1)
      .default('system')
      .describe(
        "Vulkan driver for Dawn: 'system' (the loader's own ICD search), 'swiftshader' (Chromium's software Vulkan, vk_swiftshader_icd.json) or the path of an ICD manifest; never falls back to another",
      ),
    kv_on_gpu: z.boolean().default(true).describe('keep present.* on the GPU between steps (gpu-buffer outputs; logits come back to the CPU)'),
    batch_timeout_ms: z
      .int()
      .min(1)
      .default(600_000)
      .describe('a batch running longer counts as a hung worker: it is killed, its records are errored, and a new worker serves the next batch'),
    graph_optimization: graphOptimization,
    precision,
    model_file: modelFile,
  })
  .strict();

/** Parsed node-webgpu options. */
export type NodeWebgpuOptions = z.output<typeof nodeWebgpuOptions>;

/** onnxruntime-node on the WebGPU execution provider (Dawn), in a worker process per session. */
export const nodeWebgpu = defineRunner({
  type: 'node-webgpu',
  options: nodeWebgpuOptions,
  needsModel: true,
  canTeacherForce: true,
  serve: false,
  modelChoice: modelChoiceOf,
  threads: () => 1,
  load: async () => (await import('./runner.ts')).nodeWebgpuRunner,
});
