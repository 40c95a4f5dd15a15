import { z } from 'zod';
import { defineRunner } from '../../src/runner-contract/manifest.ts';
import { graphOptimization, modelChoiceOf, modelFile, precision } from '../../src/runner-contract/options.ts';

export const nodeCudaOptions = z
  .object({
    device_id: z.int().min(0).default(0).describe('CUDA device index, after CUDA_VISIBLE_DEVICES'),
    cudnn_conv_algo_search: z
      .enum(['EXHAUSTIVE', 'HEURISTIC', 'DEFAULT'])
      .default('EXHAUSTIVE')
      .describe('onnxruntime-node 1.29 passes only deviceId to the CUDA EP, so only the EP default (EXHAUSTIVE) can run; other values are refused'),
    use_tf32: z
      .boolean()
      .default(false)
      .describe('TF32 matmuls are faster and less exact; false sets NVIDIA_TF32_OVERRIDE=0 for the process (the EP default is on)'),
    deterministic_compute: z.boolean().default(true).describe('onnxruntime session use_deterministic_compute'),
    kv_on_gpu: z
      .boolean()
      .default(false)
      .describe('keep present.* on the GPU between steps; onnxruntime-node 1.29 has GPU outputs for WebGPU only, so true is refused'),
    graph_optimization: graphOptimization,
    precision,
    model_file: modelFile,
  })
  .strict();

/** Parsed node-cuda options. */
export type NodeCudaOptions = z.output<typeof nodeCudaOptions>;

/** onnxruntime-node on the CUDA execution provider. */
export const nodeCuda = defineRunner({
  type: 'node-cuda',
  options: nodeCudaOptions,
  needsModel: true,
  canTeacherForce: true,
  serve: false,
  modelChoice: modelChoiceOf,
  threads: () => 1,
  load: async () => (await import('./runner.ts')).nodeCudaRunner,
});
