import * as ort from 'onnxruntime-node';
import type { Runner } from '../../src/runner-contract/types.ts';
import { createTimedSession, GRAPH_OPT, loopSession, ortNodeVersion, requireModel } from '../ort-node/session.ts';
import type { NodeCpuOptions } from './manifest.ts';

export { GRAPH_OPT, makeNodeTensor } from '../ort-node/session.ts';

/** onnxruntime-node on the CPU execution provider. */
export const nodeCpuRunner: Runner<NodeCpuOptions> = {
  async probe() {
    return { available: true, info: { onnxruntime: ortNodeVersion(), backends: ort.listSupportedBackends() } };
  },

  async open(maybeModel, options) {
    const model = requireModel(maybeModel, 'node-cpu');
    const { session, sessionMs } = await createTimedSession(model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.intra_op_threads,
      interOpNumThreads: options.inter_op_threads,
      graphOptimizationLevel: GRAPH_OPT[options.graph_optimization],
    });
    return loopSession(
      session,
      model,
      {
        provider: { requested: 'cpu', effective: 'cpu' },
        environment: {
          intraOpThreads: options.intra_op_threads,
          interOpThreads: options.inter_op_threads,
          graphOptimization: options.graph_optimization,
        },
        sessionMs,
      },
      options.intra_op_threads,
    );
  },
};
