import * as ort from 'onnxruntime-node';
import { decodeModelFor } from '../src/decode/session-model.ts';
import type { MakeTensor } from '../src/decode/types.ts';
import { DetbenchError } from '../src/errors.ts';
import type { RunnerOptionMap } from '../src/runner/options.ts';
import { generateWithLoop } from '../src/runner/generate.ts';
import type { Runner } from '../src/runner/types.ts';
import { specOf } from '../src/runner/spec.ts';

/** onnxruntime's own names for the graph optimization levels. */
export const GRAPH_OPT = { disabled: 'disabled', basic: 'basic', extended: 'extended', all: 'all' } as const;

export const makeNodeTensor: MakeTensor = (type, data, dims) => new ort.Tensor(type, data, dims);

/** onnxruntime-node on the CPU execution provider. */
export const nodeCpuRunner: Runner<'node-cpu'> = {
  type: 'node-cpu',

  async probe() {
    return { available: true, info: { onnxruntime: ort.env.versions.node ?? null, backends: ort.listSupportedBackends() } };
  },

  async open(model, options: RunnerOptionMap['node-cpu']) {
    if (!model) throw new DetbenchError('MODEL_REQUIRED', 'node-cpu needs the suite to name a model folder');
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(model.onnxPath, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.intra_op_threads,
      interOpNumThreads: options.inter_op_threads,
      graphOptimizationLevel: GRAPH_OPT[options.graph_optimization],
      executionMode: 'sequential',
    });
    const sessionMs = performance.now() - t0;
    const dm = decodeModelFor(session, specOf(model), makeNodeTensor);
    return {
      provider: { requested: 'cpu', effective: 'cpu' },
      environment: {
        intraOpThreads: options.intra_op_threads,
        interOpThreads: options.inter_op_threads,
        graphOptimization: options.graph_optimization,
        kvType: dm.kvType,
      },
      sessionMs,
      runtimeVersion: ort.env.versions.node ?? null,
      generate: (requests) => generateWithLoop(dm, requests),
      close: () => session.release(),
    };
  },
};
