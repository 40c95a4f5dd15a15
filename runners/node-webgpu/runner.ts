import { DetbenchError, errorMessage } from '../../src/errors.ts';
import { specOf } from '../../src/runner-contract/spec.ts';
import type { Runner } from '../../src/runner-contract/types.ts';
import { requireModel } from '../ort-node/session.ts';
import { effectiveWebgpu, realVulkanDeps, VULKAN_HINT, type VulkanPlan, vulkanPlan } from './env.ts';
import { type Opened, WebgpuWorker, type WorkerFacts } from './ipc.ts';
import type { NodeWebgpuOptions } from './manifest.ts';

type WebgpuOptions = NodeWebgpuOptions;

/** How the ICD was chosen, for messages. */
const icdWords = (plan: Extract<VulkanPlan, { ok: true }>) => (plan.icdFile ? `ICD ${plan.icdFile}` : "the Vulkan loader's own ICD search");

/** The useful end of onnxruntime's adapter error (its source path and assertion text left out). */
const shortOrtError = (message: string) => message.replace(/^[\s\S]*? was false\. /, '').trim();

/** The Vulkan facts the environment records (the worker's mapped libraries are the evidence). */
function vulkanFacts(plan: Extract<VulkanPlan, { ok: true }>, facts: WorkerFacts): Record<string, unknown> {
  return {
    vulkanIcd: plan.option,
    icdFile: plan.icdFile,
    icdLibrary: plan.icdLibrary,
    libvulkan: facts.vulkan.libvulkan ?? plan.libvulkan,
    vulkanDrivers: facts.vulkan.drivers,
    swiftshader: facts.vulkan.swiftshader,
    dawnBackend: 'vulkan',
  };
}

/**
 * onnxruntime-node's bundled WebGPU execution provider (Dawn over Vulkan). Each session runs in a
 * worker process started with the chosen ICD, because Dawn binds a process to the first Vulkan
 * driver it finds, or to having found none.
 */
export const nodeWebgpuRunner: Runner<WebgpuOptions> = {
  async probe(options) {
    const plan = vulkanPlan(options.vulkan_icd, realVulkanDeps());
    if (!plan.ok) return { available: false, reason: plan.reason };
    const worker = new WebgpuWorker(plan.env);
    try {
      const reply = await worker.request({ kind: 'probe' });
      if (reply.kind !== 'probed') throw new Error(`unexpected worker reply ${reply.kind}`);
      return { available: true, info: { onnxruntime: reply.facts.onnxruntime, ...vulkanFacts(plan, reply.facts) } };
    } catch (err) {
      const hint = options.vulkan_icd === 'system' ? `; ${VULKAN_HINT}` : '';
      const dawn = worker.dawnMessages();
      const why = dawn.length ? ` (Dawn: ${dawn.join(' ')})` : '';
      return {
        available: false,
        reason: `no WebGPU adapter through Vulkan (${icdWords(plan)}, loader ${plan.libvulkan}): ${shortOrtError(errorMessage(err))}${why}${hint}`,
      };
    } finally {
      await worker.stop();
    }
  },

  async open(maybeModel, options: WebgpuOptions) {
    const model = requireModel(maybeModel, 'node-webgpu');
    const plan = vulkanPlan(options.vulkan_icd, realVulkanDeps());
    if (!plan.ok) throw new DetbenchError('WEBGPU_UNAVAILABLE', `node-webgpu: ${plan.reason}`);
    /** Starts a worker and opens the session in it; used again after a crash or a timeout. */
    const start = async (): Promise<{ worker: WebgpuWorker; opened: Opened }> => {
      const w = new WebgpuWorker(plan.env);
      try {
        const reply = await w.request({
          kind: 'open',
          onnxPath: model.onnxPath,
          spec: specOf(model),
          graphOptimization: options.graph_optimization,
          kvOnGpu: options.kv_on_gpu,
          warmupToken: model.config.bosTokenId ?? model.config.eosTokenIds[0] ?? 0,
        });
        if (reply.kind !== 'opened') throw new Error(`unexpected worker reply ${reply.kind}`);
        return { worker: w, opened: reply };
      } catch (cause) {
        await w.stop();
        throw new DetbenchError('SESSION_FAILED', `node-webgpu: WebGPU session (${icdWords(plan)}) failed: ${shortOrtError(errorMessage(cause))}`, { cause });
      }
    };
    let { worker, opened } = await start();
    let restarts = 0;
    const environment: Record<string, unknown> = {
      ...vulkanFacts(plan, opened.facts),
      kvOnGpu: options.kv_on_gpu,
      kvLocation: opened.kvLocation,
      kvType: opened.kvType,
      graphOptimization: options.graph_optimization,
      placement: opened.placement ?? { error: opened.placementError },
      process: 'worker',
    };
    return {
      provider: { requested: 'webgpu', effective: effectiveWebgpu(opened.placement, options.kv_on_gpu, opened.kvLocation) },
      environment,
      sessionMs: opened.sessionMs,
      runtimeVersion: opened.facts.onnxruntime,
      // A failed batch (a crashed or hung worker, a failed forward pass) throws: the executor records it.
      async generate(requests) {
        if (!worker.alive) {
          // The last batch crashed or hung the worker: a fresh one serves this batch.
          await worker.stop();
          ({ worker, opened } = await start());
          environment.workerRestarts = ++restarts;
        }
        const reply = await worker.request({ kind: 'generate', requests }, options.batch_timeout_ms);
        if (reply.kind !== 'generated') throw new Error(`unexpected worker reply ${reply.kind}`);
        return reply.outcomes;
      },
      close: () => worker.stop(),
    };
  },
};
