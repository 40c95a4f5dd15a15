// The node-webgpu worker process: forked by ipc.ts with VK_ICD_FILENAMES already in its
// environment, so Dawn's process-wide Vulkan instance sees exactly the ICD the runner was given.
import { readFileSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { singleTokenFeeds } from '../../src/decode/feeds.ts';
import { decodeModelFor } from '../../src/decode/session-model.ts';
import type { DecodeModel } from '../../src/decode/types.ts';
import { errorCode, errorMessage } from '../../src/errors.ts';
import { onnx } from '../../src/model/onnx-proto.ts';
import { generateWithLoop } from '../../src/runner-contract/generate-with-loop.ts';
import { makeNodeTensor } from '../ort-node/session.ts';
import { placementFromLog, vulkanLibsOf } from './env.ts';
import type { FromWorker, OpenRequest, ToWorker, WorkerFacts } from './ipc.ts';

const LOG = process.env.DETBENCH_WEBGPU_LOG ?? '';

function facts(): WorkerFacts {
  let maps = '';
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    /* not Linux */
  }
  return { onnxruntime: ort.env.versions.node ?? null, vulkan: vulkanLibsOf(maps) };
}

/** A one-node graph (y = x + x), enough to make onnxruntime ask Dawn for an adapter and run a kernel. */
function probeModel(): Uint8Array {
  const vi = (name: string) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 4 }] } } } });
  return onnx.ModelProto.encode({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'probe', node: [{ op_type: 'Add', name: 'add', input: ['x', 'x'], output: ['y'] }], input: [vi('x')], output: [vi('y')] },
  }).finish();
}

async function probe(): Promise<FromWorker> {
  const session = await ort.InferenceSession.create(probeModel(), { executionProviders: ['webgpu'] });
  try {
    const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
    const got = Array.from((y?.data ?? []) as Float32Array);
    if (got.join() !== '2,4,6,8') throw new Error(`WebGPU computed x + x = [${got.join(', ')}] for x = [1, 2, 3, 4]`);
  } finally {
    await session.release();
  }
  return { kind: 'probed', facts: facts() };
}

const logSize = () => (LOG ? statSync(LOG).size : 0);

/**
 * Where the nodes run, from an identical session created with verbose logging: onnxruntime's
 * WebGPU EP logs every kernel launch at info level, so the measured session cannot log verbosely.
 */
async function placementOf(req: OpenRequest): Promise<Pick<Extract<FromWorker, { kind: 'opened' }>, 'placement' | 'placementError'>> {
  if (!LOG) return { placement: null, placementError: 'no worker log' };
  const from = logSize();
  const s = await ort.InferenceSession.create(req.onnxPath, {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: req.graphOptimization,
    logSeverityLevel: 0,
  });
  await s.release();
  const log = readFileSync(LOG).subarray(from).toString('utf8');
  const placement = placementFromLog(log);
  return placement ? { placement } : { placement: null, placementError: 'onnxruntime logged no node placement' };
}

let session: ort.InferenceSession | null = null;
let model: DecodeModel | null = null;

/** One token through the graph with an empty cache: where does present.* come back? */
async function kvLocationOf(dm: DecodeModel, token: number): Promise<string | null> {
  const feeds = singleTokenFeeds(dm, token);
  const out = await dm.session.run(feeds);
  const location = out[dm.presentKey(0)]?.location ?? null;
  for (const v of Object.values(out)) if (v.location && v.location !== 'cpu') v.dispose?.();
  return location;
}

async function open(req: OpenRequest): Promise<FromWorker> {
  const placed = await placementOf(req);
  const outputs: Record<string, 'cpu' | 'gpu-buffer'> = { logits: 'cpu' };
  const names = req.spec.cacheNames;
  if (req.kvOnGpu) {
    // A combined cache (past_N/present_N) has one tensor per layer, named by presentKey.
    const combined = req.spec.cacheLayout === 'combined';
    for (let i = 0; i < req.spec.numLayers; i++) {
      outputs[names?.presentKey[i] ?? `present.${i}.key`] = 'gpu-buffer';
      if (!combined) outputs[names?.presentValue[i] ?? `present.${i}.value`] = 'gpu-buffer';
    }
  }
  const t0 = performance.now();
  session = await ort.InferenceSession.create(req.onnxPath, {
    executionProviders: ['webgpu'],
    executionMode: 'sequential',
    graphOptimizationLevel: req.graphOptimization,
    ...(req.kvOnGpu ? { preferredOutputLocation: outputs } : {}),
  });
  const sessionMs = performance.now() - t0;
  model = decodeModelFor(session, req.spec, makeNodeTensor);
  const kvLocation = await kvLocationOf(model, req.warmupToken);
  return { kind: 'opened', sessionMs, kvType: model.kvType, ...placed, kvLocation, facts: facts() };
}

async function handle(msg: ToWorker): Promise<FromWorker> {
  switch (msg.kind) {
    case 'probe':
      return probe();
    case 'open':
      return open(msg);
    case 'generate':
      if (!model) throw new Error('generate before open');
      return { kind: 'generated', outcomes: await generateWithLoop(model, msg.requests) };
    case 'close':
      await session?.release();
      session = model = null;
      return { kind: 'closed' };
  }
}

// The parent went away (crashed, killed): nothing left to answer.
process.on('disconnect', () => process.exit(0));
process.on('message', (msg: ToWorker) => {
  handle(msg).then(
    (reply) => process.send!(reply, () => msg.kind === 'close' && process.exit(0)),
    (err: unknown) => process.send!({ kind: 'error', code: errorCode(err), message: errorMessage(err) }),
  );
});
