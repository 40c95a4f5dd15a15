import * as ort from 'onnxruntime-node';
import { decodeModelFor } from '../../src/decode/session-model.ts';
import type { MakeTensor } from '../../src/decode/types.ts';
import { DetbenchError } from '../../src/errors.ts';
import type { LoadedModel } from '../../src/model/types.ts';
import { coresForThisProcess } from '../../src/runner-contract/cores.ts';
import { generateWithLoop } from '../../src/runner-contract/generate-with-loop.ts';
import { specOf } from '../../src/runner-contract/spec.ts';
import type { RunnerSession } from '../../src/runner-contract/types.ts';
import { releaseBuffer } from '../../src/serve/release.ts';
import { SummaryRing } from '../recording/summary-ring.ts';

/** What the onnxruntime-node runners (node-cpu, node-cuda) share: tensors, session creation, the loop. */

/** onnxruntime's own names for the graph optimization levels. */
export const GRAPH_OPT = { disabled: 'disabled', basic: 'basic', extended: 'extended', all: 'all' } as const;

export const makeNodeTensor: MakeTensor = (type, data, dims) => new ort.Tensor(type, data, dims);

/** The onnxruntime-node version actually loaded. */
export const ortNodeVersion = (): string | null => ort.env.versions.node ?? null;

/** The model a local runner needs, or a MODEL_REQUIRED error naming the runner. */
export function requireModel(model: LoadedModel | undefined, runner: string): LoadedModel {
  if (!model) throw new DetbenchError('MODEL_REQUIRED', `${runner} needs the suite to name a model folder`);
  return model;
}

/** Creates a session and times it (model load is kept apart from generation time). */
export async function createTimedSession(
  model: LoadedModel,
  options: ort.InferenceSession.SessionOptions,
): Promise<{ session: ort.InferenceSession; sessionMs: number }> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model.onnxPath, { executionMode: 'sequential', ...options });
  return { session, sessionMs: performance.now() - t0 };
}

/**
 * Where the per-step recording runs, given the cores and the threads onnxruntime computes on. With
 * a core left over: `worker-thread+inline`, a worker thread that the loop helps whenever it falls
 * behind (rows that cost more than a step, a worker the machine leaves no time: see SummaryRing).
 * Else `inline` (with two onnxruntime threads on two cores a worker was no faster than in line:
 * median of 200 generations each). 0 threads means onnxruntime takes every core.
 */
export function recordingPlan(cores: number, computeThreads: number): 'inline' | 'worker-thread+inline' {
  return computeThreads > 0 && cores > computeThreads ? 'worker-thread+inline' : 'inline';
}

/**
 * Binds a created session to the shared decode loop as a RunnerSession. With a core to spare after
 * onnxruntime's `computeThreads`, the per-step recording runs on a worker thread (SummaryRing), off
 * the loop's critical path as far as the worker keeps up.
 */
export async function loopSession(
  session: ort.InferenceSession,
  model: LoadedModel,
  fields: Pick<RunnerSession, 'provider' | 'environment' | 'sessionMs'>,
  computeThreads: number,
): Promise<RunnerSession> {
  const dm = decodeModelFor(session, specOf(model), makeNodeTensor);
  // Under --jobs, this process's share of the cores: the other jobs' threads use the rest.
  const recording = recordingPlan(coresForThisProcess(), computeThreads);
  const ring = recording === 'worker-thread+inline' ? await SummaryRing.start() : null;
  if (ring) dm.recorder = ring;
  dm.release = releaseBuffer;
  return {
    ...fields,
    environment: { ...fields.environment, kvType: dm.kvType, recording },
    runtimeVersion: ortNodeVersion(),
    generate: (requests) => generateWithLoop(dm, requests),
    decodeModel: dm,
    close: async () => {
      await ring?.close();
      await session.release();
    },
  };
}
