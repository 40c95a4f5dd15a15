import { z } from 'zod';
import { defineRunner } from '../../src/runner-contract/manifest.ts';
import { graphOptimization, modelChoiceOf, modelFile, precision } from '../../src/runner-contract/options.ts';

export const nodeCpuOptions = z
  .object({
    intra_op_threads: z.int().min(0).default(1).describe('0 lets onnxruntime choose'),
    inter_op_threads: z.int().min(0).default(1),
    graph_optimization: graphOptimization,
    precision,
    model_file: modelFile,
  })
  .strict();

/** Parsed node-cpu options. */
export type NodeCpuOptions = z.output<typeof nodeCpuOptions>;

/** onnxruntime-node on the CPU execution provider. */
export const nodeCpu = defineRunner({
  type: 'node-cpu',
  options: nodeCpuOptions,
  needsModel: true,
  canTeacherForce: true,
  serve: true,
  modelChoice: modelChoiceOf,
  // 0 lets onnxruntime take every core: nothing is left for a second job.
  threads: (o) => (o.intra_op_threads === 0 ? 'all' : o.intra_op_threads),
  load: async () => (await import('./runner.ts')).nodeCpuRunner,
});
