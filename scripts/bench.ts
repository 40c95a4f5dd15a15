// npm run bench:node [-- <model-dir> [new-tokens] [rounds] [iterations-per-round]] [--busy] [--sampled]
// --busy: a spinning process occupies one core throughout (no core left for the recording worker).
// --sampled: detbench also decodes a sampled setting (temperature 0.8, top-k 40, top-p 0.95).
// Greedy decode tokens/s of detbench's node-cpu path (shared decode loop, full recording) against
// transformers.js generate() on the same model folder and the same onnxruntime-node, and against a
// bare session.run loop that records nothing. One process, alternating rounds, medians, ratios.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Bench } from 'tinybench';
import { nodeCpuOptions } from '../runners/node-cpu/manifest.ts';
import { makeNodeTensor, nodeCpuRunner } from '../runners/node-cpu/runner.ts';
import { SummaryRing } from '../runners/recording/summary-ring.ts';
import { greedyToken } from '../src/decode/argmax-kernel.ts';
import { decode } from '../src/decode/loop.ts';
import { decodeModelFor } from '../src/decode/session-model.ts';
import type { DecodeModel } from '../src/decode/types.ts';
import { loadModel } from '../src/model/load.ts';
import { specOf } from '../src/runner-contract/spec.ts';
import { releaseBuffer } from '../src/serve/release.ts';
import { median, quartiles } from './bench-stats.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const busy = process.argv.includes('--busy');
const sampled = process.argv.includes('--sampled');
const modelDir = resolve(args[0] ?? 'models/detbench-tiny');
const newTokens = Number(args[1] ?? 64);
const rounds = Number(args[2] ?? 100);
const perRoundIterations = Number(args[3] ?? 3);
const threads = 1;
const prompt = 'The module provides functions for';

const model = await loadModel(modelDir);
const promptIds = model.tokenizer.encode(prompt);
const sessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' } as const;
const session = await ort.InferenceSession.create(model.onnxPath, sessionOptions);
const dm = decodeModelFor(session, specOf(model), makeNodeTensor);
dm.release = releaseBuffer;

// detbench: the node-cpu runner as `detbench run` uses it (shared loop, top-10, margins and logits
// hashes recorded at every step).
const runner = await nodeCpuRunner.open(model, nodeCpuOptions.parse({ intra_op_threads: threads }));
const request = { promptIds, promptText: prompt, maxNewTokens: newTokens, sampling: { kind: 'greedy' as const }, stopIds: [], topK: 10 };
async function detbench(): Promise<number> {
  const [r] = await runner.generate([request]);
  if (r?.status !== 'completed') throw new Error(`node-cpu failed: ${JSON.stringify(r)}`);
  stepMs.detbench!.push(...r.generation.timings.stepMs.slice(1));
  return r.generation.tokens.length;
}

// The same decode loop with the recording in line (what a runner does when no core is spare).
const inlineRequest = { ...request, sampling: { kind: 'greedy' as const } };
async function detbenchInline(): Promise<number> {
  const [r] = await decode(dm, [inlineRequest]);
  stepMs['detbench inline']!.push(...r!.timings.stepMs.slice(1));
  return r!.tokens.length;
}
// A sampled setting through the runner, to compare with greedy (same loop, same recording).
const sampledRequest = { ...request, sampling: { kind: 'sample' as const, temperature: 0.8, topK: 40, topP: 0.95, seed: 1 }, stopIds: [] };
async function detbenchSampled(): Promise<number> {
  const [r] = await runner.generate([sampledRequest]);
  if (r?.status !== 'completed') throw new Error(`node-cpu failed: ${JSON.stringify(r)}`);
  stepMs['detbench sampled']!.push(...r.generation.timings.stepMs.slice(1));
  return r.generation.tokens.length;
}

/**
 * A bare greedy loop: new tensors every step, argmax only (the loop's own, on the kernel), nothing recorded. It also times its
 * session.run calls alone, which bounds every loop: no harness on this session can beat
 * tokens / (time inside session.run).
 */
async function bare(m: DecodeModel): Promise<number> {
  const feeds: Record<string, ort.Tensor> = {};
  const n = promptIds.length;
  feeds.input_ids = new ort.Tensor('int64', BigInt64Array.from(promptIds, BigInt), [1, n]);
  feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  if (m.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from(promptIds.keys(), BigInt), [1, n]);
  const empty = new ort.Tensor('float32', new Float32Array(0), [1, m.numKvHeads, 0, m.headDim]);
  for (let i = 0; i < m.numLayers; i++) {
    feeds[m.pastKey(i)] = empty;
    feeds[m.pastValue(i)] = empty;
  }
  let tokens = 0;
  let runMs = 0;
  for (let step = 0; step < newTokens; step++) {
    const t0 = performance.now();
    const out = await session.run(feeds);
    runMs += performance.now() - t0;
    const stepStart = t0;
    const logits = out.logits!;
    const v = logits.dims[2]!;
    const s = logits.dims[1]!;
    const next = greedyToken((logits.data as Float32Array).subarray((s - 1) * v, s * v));
    tokens++;
    // The same span the decode loop times per step: the forward pass and the choice (and recording).
    if (step > 0) stepMs.bare!.push(performance.now() - stepStart);
    const len = n + step + 1;
    feeds.input_ids = new ort.Tensor('int64', BigInt64Array.of(BigInt(next)), [1, 1]);
    feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(len).fill(1n), [1, len]);
    if (m.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.of(BigInt(len - 1)), [1, 1]);
    // The same buffer hygiene as the runner's loop: logits and the replaced cache freed at once.
    releaseBuffer(logits.data as Float32Array);
    for (let i = 0; i < m.numLayers; i++) {
      if (step > 0) {
        releaseBuffer(feeds[m.pastKey(i)]!.data as Float32Array);
        releaseBuffer(feeds[m.pastValue(i)]!.data as Float32Array);
      }
      feeds[m.pastKey(i)] = out[m.presentKey(i)]!;
      feeds[m.pastValue(i)] = out[m.presentValue(i)]!;
    }
  }
  sessionRunMs.push(runMs);
  return tokens;
}
/**
 * Per-step times (after the prefill) of each loop, pooled over all rounds. On a machine shared with
 * other tenants, whole generations absorb preemptions of tens of ms; the median step does not.
 */
const stepMs: Record<string, number[]> = { detbench: [], 'detbench inline': [], 'detbench sampled': [], bare: [] };
/** Time inside session.run per bare generation: what a loop that cost nothing would take. */
const sessionRunMs: number[] = [];

// transformers.js on the same folder, offline, with the same onnxruntime-node (npm overrides pin it).
const tf = await import('@huggingface/transformers');
tf.env.allowRemoteModels = false;
tf.env.localModelPath = resolve(modelDir, '..');
const name = modelDir.split('/').pop()!;
const tfModel = await tf.AutoModelForCausalLM.from_pretrained(name, {
  dtype: 'fp32',
  device: 'cpu',
  session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' },
});
const tfInputs = {
  input_ids: new tf.Tensor('int64', BigInt64Array.from(promptIds, BigInt), [1, promptIds.length]),
  attention_mask: new tf.Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [1, promptIds.length]),
};
async function transformers(): Promise<number> {
  const out = (await tfModel.generate({ ...tfInputs, max_new_tokens: newTokens, min_new_tokens: newTokens, do_sample: false })) as { dims: number[] };
  return out.dims[1]! - promptIds.length;
}

// Same greedy tokens from both, or the comparison is meaningless.
const first = (await runner.generate([request]))[0]!;
const ours = first.status === 'completed' ? first.generation.tokens : [];
const theirs = (await tfModel.generate({ ...tfInputs, max_new_tokens: newTokens, min_new_tokens: newTokens, do_sample: false })) as { tolist(): bigint[][] };
const theirTokens = theirs.tolist()[0]!.slice(promptIds.length).map(Number);
const sameTokens = JSON.stringify(ours) === JSON.stringify(theirTokens);

/** CPU time (ms, every thread of the process) per generation of each contender: steadier than wall time on a loaded machine. */
const cpuMs: Record<string, number[]> = {};
function withCpu(name: string, task: () => Promise<number>): () => Promise<number> {
  return async () => {
    const c0 = process.cpuUsage();
    const n = await task();
    const c = process.cpuUsage(c0);
    const list = cpuMs[name] ?? [];
    list.push((c.user + c.system) / 1000);
    cpuMs[name] = list;
    return n;
  };
}
const tasks: Record<string, () => Promise<number>> = { detbench, 'detbench inline': detbenchInline, bare: () => bare(dm), 'transformers.js': transformers };
if (sampled) tasks['detbench sampled'] = detbenchSampled;
const perRound: Record<string, number[]> = Object.fromEntries([...Object.keys(tasks), 'ceiling'].map((k) => [k, []]));
// A competitor for the cores: one process that spins until the bench ends.
const spinner = busy ? spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }) : null;
for (let round = 0; round < rounds; round++) {
  // Rotate the order each round so drift (heat, other load) does not favour one side.
  const names = Object.keys(tasks);
  const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
  const bench = new Bench({ iterations: perRoundIterations, warmupIterations: 1, time: 0, warmupTime: 0 });
  for (const n of order) bench.add(n, withCpu(n, tasks[n]!));
  await bench.run();
  // The ceiling this round: the bare loop's generations as if everything but session.run were free.
  // (The measured iterations only, as tinybench's own figures: the warm-up ones come first.)
  const ceilingMs = median(sessionRunMs.splice(0).slice(-perRoundIterations));
  for (const task of bench.tasks) {
    const r = task.result as { latency?: { p50?: number; mean?: number } } | undefined;
    const ms = r?.latency?.p50 ?? r?.latency?.mean;
    if (ms) perRound[task.name]!.push((newTokens * 1000) / ms);
  }
  perRound.ceiling!.push((newTokens * 1000) / ceilingMs);
}
const tps = Object.fromEntries(Object.entries(perRound).map(([k, v]) => [k, median(v)]));
const roundRatios = (a: string, b: string) => perRound[a]!.map((x, i) => x / perRound[b]![i]!);
const result = {
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, os: `${platform()} ${release()}`, node: process.version, onnxruntime: ort.env.versions.node },
  model: { dir: modelDir, sha256: model.sha256, params: null },
  newTokens,
  rounds,
  iterationsPerRound: perRoundIterations,
  threads,
  sameGreedyTokens: sameTokens,
  tokensPerSecond: tps,
  // Per-round ratios first, then their median: drift between rounds (other load, heat) cancels.
  busy,
  recording: runner.environment?.recording ?? null,
  // Where the runner's rows were summarised (worker, loop at push, loop at the end), all rounds.
  recordingPlaces: runner.decodeModel?.recorder instanceof SummaryRing ? runner.decodeModel.recorder.places() : null,
  ratios: {
    detbenchVsTransformers: median(roundRatios('detbench', 'transformers.js')),
    recordingOverhead: 1 - median(roundRatios('detbench', 'bare')),
    inlineRecordingOverhead: 1 - median(roundRatios('detbench inline', 'bare')),
    inlineVsTransformers: median(roundRatios('detbench inline', 'transformers.js')),
    ...(sampled ? { sampledVsGreedy: median(roundRatios('detbench sampled', 'detbench')) } : {}),
    bareVsTransformers: median(roundRatios('bare', 'transformers.js')),
    // The most any loop could reach against transformers.js on this session: time inside
    // session.run only. Below 1.25, the first goal is out of reach on this model and machine.
    ceilingVsTransformers: median(roundRatios('ceiling', 'transformers.js')),
  },
  // The spread of the per-round ratios (25th and 75th percentile), to judge the medians by.
  roundRatioQuartiles: {
    detbenchVsTransformers: quartiles(roundRatios('detbench', 'transformers.js')),
    detbenchVsBare: quartiles(roundRatios('detbench', 'bare')),
    ceilingVsTransformers: quartiles(roundRatios('ceiling', 'transformers.js')),
  },
  // The least-disturbed round of each contender: on a shared machine, other tenants' load lands
  // on medians as preemptions of tens of ms; the fastest rounds show the code's own cost.
  bestTokensPerSecond: Object.fromEntries(Object.entries(perRound).map(([k, v]) => [k, Math.max(...v)])),
  ratiosOfBest: Object.fromEntries(
    Object.keys(tasks)
      .filter((k) => k !== 'bare')
      .flatMap((k) => [
        [`${k} vs bare`, Math.max(...perRound[k]!) / Math.max(...perRound.bare!)],
        ...(k === 'transformers.js' ? [] : [[`${k} vs transformers.js`, Math.max(...perRound[k]!) / Math.max(...perRound['transformers.js']!)]]),
      ]),
  ),
  medianStepMs: Object.fromEntries(
    Object.entries(stepMs)
      .filter(([, v]) => v.length > 0)
      .map(([k, v]) => [k, median(v)]),
  ),
  // Per step, from those medians: what the recording (and sampling) adds to the bare loop's step.
  stepOverheadVsBare: Object.fromEntries(
    Object.entries(stepMs)
      .filter(([k, v]) => k !== 'bare' && v.length > 0)
      .map(([k, v]) => [k, median(v) / median(stepMs.bare!) - 1]),
  ),
  // CPU time per generation (all threads, the recording worker's included), median over all iterations.
  cpuMsPerGeneration: Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, Number(median(v).toFixed(3))])),
  machineLoadAverage: loadavg().map((x) => Number(x.toFixed(2))),
  ratiosOfMedians: {
    detbenchVsTransformers: tps.detbench! / tps['transformers.js']!,
    recordingOverhead: 1 - tps.detbench! / tps.bare!,
  },
  goals: goals(),
};

/**
 * The goals this run is judged by (issues #17 and #13): on a real vocabulary (32,000 and up)
 * detbench at least 1.5x transformers.js and within 15% of the bare loop; on the shipped model at
 * least 1.09x and recording at most 5%; in line, within 10% of the bare loop with no spare core
 * (--busy) and 3% with one; sampled cells at least 0.75x greedy's tokens/s. Judged by the median of
 * the per-round ratios.
 */
function goals() {
  const real = model.config.vocabSize >= 32_000;
  const vsTf = real ? 1.5 : 1.09;
  const overhead = real ? 0.15 : 0.05;
  const inline = busy ? 0.1 : 0.03;
  const r = roundRatios;
  const rows = [
    { goal: `detbench >= ${vsTf}x transformers.js`, measured: median(r('detbench', 'transformers.js')), met: median(r('detbench', 'transformers.js')) >= vsTf },
    {
      goal: `detbench recording <= ${overhead * 100}% against the bare loop`,
      measured: 1 - median(r('detbench', 'bare')),
      met: 1 - median(r('detbench', 'bare')) <= overhead,
    },
    {
      goal: `detbench inline <= ${inline * 100}% against the bare loop (${busy ? 'no spare core' : 'a spare core'})`,
      measured: 1 - median(r('detbench inline', 'bare')),
      met: 1 - median(r('detbench inline', 'bare')) <= inline,
    },
    ...(sampled
      ? [
          {
            goal: 'detbench sampled >= 0.75x greedy',
            measured: median(r('detbench sampled', 'detbench')),
            met: median(r('detbench sampled', 'detbench')) >= 0.75,
          },
        ]
      : []),
  ];
  return rows.map((g) => ({ ...g, measured: Number(g.measured.toFixed(3)) }));
}
spinner?.kill();
mkdirSync('out/bench', { recursive: true });
writeFileSync('out/bench/bench-node.json', JSON.stringify(result, null, 2));
console.log(JSON.stringify(result, null, 2));
console.log(
  `\n${name} (vocabulary ${model.config.vocabSize}), ${result.machine.cpu}, ${result.machine.cores} cores, Node ${process.version}, onnxruntime ${ort.env.versions.node}, load average ${result.machineLoadAverage.join(' ')}${busy ? ', --busy' : ''}; recording ${result.recording}, rows ${JSON.stringify(result.recordingPlaces)}:`,
);
for (const g of result.goals) console.log(`  ${g.met ? 'met    ' : 'NOT MET'}  ${g.goal}: ${g.measured}`);
await session.release();
await runner.close();
