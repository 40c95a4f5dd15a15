import { mkdtempSync, rmSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { decode } from '../../src/decode/loop.ts';
import { decodeModelFor } from '../../src/decode/session-model.ts';
import { type CudaProbeDeps, ortNodeBinDir, probeCudaHost } from '../../src/env/cuda.ts';
import { realHost } from '../../src/env/detect.ts';
import { DetbenchError, errorMessage } from '../../src/errors.ts';
import type { LoadedModel } from '../../src/model/types.ts';
import { specOf } from '../../src/runner-contract/spec.ts';
import type { Runner } from '../../src/runner-contract/types.ts';
import {
  cudaProviderMapped,
  effectiveProvider,
  type Placement,
  placementFromProfile,
  readProfileDir,
  readSelfMaps,
  tf32Plan,
} from '../ort-node/cuda-checks.ts';
import { createTimedSession, GRAPH_OPT, loopSession, makeNodeTensor, ortNodeVersion, requireModel } from '../ort-node/session.ts';
import type { NodeCudaOptions } from './manifest.ts';

type CudaOptions = NodeCudaOptions;

/** The real host, for probe(); tests call probeCudaHost with fakes. */
export function realCudaProbeDeps(): CudaProbeDeps {
  return { host: realHost, env: process.env, binDir: ortNodeBinDir(), onnxruntime: ortNodeVersion() ?? 'unknown', platform: `${platform()}-${arch()}` };
}

/**
 * Options onnxruntime-node 1.29 cannot honor. Its binding hands the CUDA EP only `deviceId`
 * (session_options_helper.cc), and its `gpu-buffer` outputs are WebGPU buffers, so a CUDA session
 * cannot keep outputs on the device. Refused rather than silently run differently.
 */
export function unsupportedCudaOptions(options: CudaOptions): string[] {
  const out: string[] = [];
  if (options.cudnn_conv_algo_search !== 'EXHAUSTIVE') {
    out.push(
      `cudnn_conv_algo_search: ${options.cudnn_conv_algo_search}: onnxruntime-node passes only deviceId to the CUDA EP, which then searches EXHAUSTIVE (its default)`,
    );
  }
  if (options.kv_on_gpu) {
    out.push('kv_on_gpu: true: onnxruntime-node 1.29 binds gpu-buffer outputs to WebGPU memory only, so a CUDA session returns present.* to the CPU');
  }
  return out;
}

/**
 * One profiled warm-up generation (two steps, prefill and one cached step) to see where the nodes
 * ran; profiling stops at endProfiling(), so the measured generations run unprofiled.
 */
async function profilePlacement(session: ort.InferenceSession, model: LoadedModel, dir: string): Promise<{ placement: Placement | null; error?: string }> {
  let failed: unknown;
  try {
    const dm = decodeModelFor(session, specOf(model), makeNodeTensor);
    const first = model.config.bosTokenId ?? model.config.eosTokenIds[0] ?? 0;
    await decode(dm, [{ promptIds: [first], maxNewTokens: 2, sampling: { kind: 'greedy' }, stopIds: [], topK: 1 }]);
  } catch (err) {
    failed = err;
  }
  try {
    session.endProfiling();
    if (failed) throw failed;
    return { placement: placementFromProfile(readProfileDir(dir)) };
  } catch (err) {
    return { placement: null, error: `placement unknown: ${errorMessage(err)}` };
  }
}

/**
 * onnxruntime-node on the CUDA execution provider. The session's effective provider is 'cuda' only
 * if the CUDA provider library is loaded in the process and nodes ran on it, so the executor turns
 * a silent CPU fallback into a PROVIDER_MISMATCH error.
 */
/** CPU threads a CUDA session keeps busy: the GPU computes, the host thread mostly waits on it. */
const HOST_THREADS = 1;

export const nodeCudaRunner: Runner<CudaOptions> = {
  probe(options) {
    return probeCudaHost(options.device_id, realCudaProbeDeps());
  },

  async open(maybeModel, options: CudaOptions) {
    const model = requireModel(maybeModel, 'node-cuda');
    const refused = unsupportedCudaOptions(options);
    if (refused.length) throw new DetbenchError('OPTION_UNSUPPORTED', `node-cuda: ${refused.join('; ')}`);
    const tf32 = tf32Plan(options.use_tf32, process.env.NVIDIA_TF32_OVERRIDE, cudaProviderMapped(readSelfMaps()));
    if (!tf32.ok) throw new DetbenchError('OPTION_UNSUPPORTED', `node-cuda: ${tf32.message}`);
    if (tf32.set !== undefined) process.env.NVIDIA_TF32_OVERRIDE = tf32.set;

    const profileDir = mkdtempSync(join(tmpdir(), 'detbench-cuda-'));
    try {
      let created: Awaited<ReturnType<typeof createTimedSession>>;
      try {
        created = await createTimedSession(model, {
          executionProviders: [{ name: 'cuda', deviceId: options.device_id }],
          graphOptimizationLevel: GRAPH_OPT[options.graph_optimization],
          enableProfiling: true,
          profileFilePrefix: join(profileDir, 'ort'),
          extra: { session: { use_deterministic_compute: options.deterministic_compute ? '1' : '0' } },
        });
      } catch (cause) {
        throw new DetbenchError('SESSION_FAILED', `node-cuda: CUDA session on device ${options.device_id} failed: ${errorMessage(cause)}`, { cause });
      }
      const { session, sessionMs } = created;
      const { placement, error } = await profilePlacement(session, model, profileDir);
      const mapped = cudaProviderMapped(readSelfMaps());
      const effective = effectiveProvider(mapped, placement);
      return loopSession(
        session,
        model,
        {
          provider: { requested: 'cuda', effective },
          environment: {
            deviceId: options.device_id,
            cudnnConvAlgoSearch: 'EXHAUSTIVE',
            tf32: tf32.effective,
            deterministicCompute: options.deterministic_compute,
            kvOnGpu: false,
            graphOptimization: options.graph_optimization,
            cudaProviderLoaded: mapped,
            placement: placement ?? { error },
            cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES ?? null,
          },
          sessionMs,
        },
        HOST_THREADS,
      );
    } finally {
      rmSync(profileDir, { recursive: true, force: true });
    }
  },
};
