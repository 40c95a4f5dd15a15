/**
 * Writes realistic synthetic results (JSONL, one file per machine) for report development and the
 * report benchmark: several runners on two hardware profiles, repetitions, teacher-forced records,
 * top-10 candidates per step, and divergences that happen where the runner's rounding noise
 * exceeds a near-tie margin, as they do on real hardware.
 *
 *   node --import tsx scripts/make-synthetic-results.ts [--steps 1000000] [--out out/synthetic]
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Sampling } from '../src/decode/sampling.ts';
import { completedRecord, erroredRecord, recordCommon, skippedRecord } from '../src/results/build.ts';
import type { CompletedRecord, RecordCommon, ResultRecord } from '../src/results/record.ts';
import type { RecordRunnerType } from '../src/results/schema.ts';

/** Options of {@link makeSyntheticResults}. */
export interface SyntheticOptions {
  /** Decode steps to produce, over all records (free and teacher-forced); default 1,000,000. */
  targetSteps?: number;
  repetitions?: number;
  /** Mean steps per record. */
  stepsPerRecord?: number;
  /** Exact number of prompts (overrides the one derived from targetSteps). */
  prompts?: number;
  seed?: number;
}

const TOP_K = 10;
// No suite file exists; the hash stands for one (any fixed 64 hex digits would do).
const SUITE = { id: 'synthetic', file: 'suites/synthetic.yaml', hash: createHash('sha256').update('synthetic').digest('hex') };
const SETTINGS: { id: string; sampling: Sampling }[] = [
  { id: 'greedy', sampling: { kind: 'greedy' } },
  { id: 't0.7-k50-p0.9-s1', sampling: { kind: 'sample', temperature: 0.7, topK: 50, topP: 0.9, seed: 1 } },
];

interface RunnerSpec {
  id: string;
  type: RecordRunnerType;
  profile: string;
  /** Amplitude of the runner's logit noise against the reference kernel (0: bitwise equal). */
  eps: number;
  /** Noise differs between repetitions (atomics, dynamic batching). */
  perRepetition: boolean;
  remote?: boolean;
  teacherForced?: boolean;
  ttftMs: number;
  tokensPerSecond: number;
  sessionMs: number;
  provider: string;
}

const RUNNERS: RunnerSpec[] = [
  { id: 'node-cpu', type: 'node-cpu', profile: 'laptop-m2', eps: 0, perRepetition: false, ttftMs: 95, tokensPerSecond: 38, sessionMs: 850, provider: 'cpu' },
  { id: 'browser-wasm', type: 'browser-wasm', profile: 'laptop-m2', eps: 0, perRepetition: false, teacherForced: true, ttftMs: 180, tokensPerSecond: 21, sessionMs: 2400, provider: 'wasm' },
  { id: 'browser-webgpu', type: 'browser-webgpu', profile: 'laptop-m2', eps: 4e-3, perRepetition: false, teacherForced: true, ttftMs: 60, tokensPerSecond: 74, sessionMs: 3900, provider: 'webgpu' },
  { id: 'remote-api', type: 'remote-api', profile: 'laptop-m2', eps: 3e-2, perRepetition: true, remote: true, ttftMs: 320, tokensPerSecond: 95, sessionMs: 40, provider: 'remote' },
  { id: 'node-cpu', type: 'node-cpu', profile: 'server-a100', eps: 2e-5, perRepetition: false, ttftMs: 70, tokensPerSecond: 52, sessionMs: 610, provider: 'cpu' },
  { id: 'node-cuda', type: 'node-cuda', profile: 'server-a100', eps: 3e-4, perRepetition: true, teacherForced: true, ttftMs: 22, tokensPerSecond: 160, sessionMs: 1700, provider: 'cuda' },
];

const FINGERPRINTS: Record<string, RecordCommon['profile']['fingerprint']> = {
  'laptop-m2': { cpuModel: 'Apple M2', cpuCores: 8, os: 'darwin 23.4.0', arch: 'arm64', memoryGiB: 16, node: '20.19.0', browser: 'Chromium 131' },
  'server-a100': { cpuModel: 'AMD EPYC 7763', cpuCores: 64, os: 'linux 6.8.0', arch: 'x64', memoryGiB: 512, node: '20.19.0', gpu: 'NVIDIA A100-SXM4-80GB', driver: '550.54', cuda: '12.4' },
};

const WORDS = [' the', ' model', ' is', ' a', ' of', ' to', ' and', ' in', ' that', ' it', ',', '.', '\n', ' token', ' logits', ' GPU', ' same', ' output', ' run', ' <', '>', ' &', ' "', "'s", ' float', ' sum', ' order', ' differs', ' kernel', ' cache', ' batch', ' x', ' =', ' 0', '1', '2', ' (', ')', ' Paris', ' capital', ' France', ' answer', ':', ' -', ' not', ' bit', ' equal', ' seed', ' when', ' we', '\n\n', ' 👍', ' é', ' café'];

/** Deterministic 32-bit hash of a string and numbers. */
function hash(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x2c, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small seeded PRNG in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const textOf = (id: number): string => WORDS[id % WORDS.length]!;
const hex = (n: number): string => n.toString(16).padStart(8, '0');

/** The reference model's logits at one step of one branch: ids and logits, best first. */
interface BaseStep {
  ids: number[];
  logits: number[];
  /** Rank (in the reference's order) of the token the reference kernel picks. */
  rank: number;
}

/** A branch of the continuation: deterministic in its seed, so every runner sees the same "model". */
function baseStep(branch: number, step: number, sampled: boolean): BaseStep {
  const r = rng(hash('step', branch, step));
  const ids = new Set<number>();
  while (ids.size < TOP_K) ids.add(Math.floor(r() * 32000));
  const top = 14 + r() * 8;
  // Near ties are rare but not exotic: ~4% of steps have a runner-up within 0.01.
  const gap0 = r() < 0.04 ? r() * 0.01 : 0.05 + r() * 3;
  const logits = [top, top - gap0];
  for (let i = 2; i < TOP_K; i++) logits.push(logits[i - 1]! - r() * 0.8);
  const rank = sampled ? [0, 0, 0, 1, 2][Math.floor(r() * 5)]! : 0;
  return { ids: [...ids], logits, rank };
}

interface Trace {
  tokens: number[];
  steps: CompletedRecord['steps'];
}

/**
 * Walks a branch with a runner's noise. The runner picks by the order of its own (noisy) logits;
 * the first time that pick differs from the reference kernel's, the runner continues on a branch of its own.
 */
function trace(branch0: number, length: number, sampled: boolean, noiseSeed: number, eps: number, forced: number[] | null): Trace {
  const t: Trace = { tokens: [], steps: { token: [], topIds: [], topLogits: [], topLogprobs: [], margin: [], hash: [] } };
  if (forced) t.steps.forced = [];
  let branch = branch0;
  for (let s = 0; s < length; s++) {
    const base = baseStep(branch, s, sampled);
    const noise = rng(hash('noise', noiseSeed, branch, s));
    const vals = base.logits.map((v) => Math.fround(eps ? v + (noise() * 2 - 1) * eps : v));
    const order = [...vals.keys()].sort((x, y) => vals[y]! - vals[x]! || base.ids[x]! - base.ids[y]!);
    const ids = order.map((i) => base.ids[i]!);
    const logits = order.map((i) => vals[i]!);
    const lse = logits[0]! + Math.log(1 + logits.slice(1).reduce((acc, v) => acc + Math.exp(v - logits[0]!), 0) + 40);
    const chosen = ids[base.rank]!;
    const refChoice = base.ids[base.rank]!;
    t.tokens.push(chosen);
    t.steps.token.push(chosen);
    t.steps.topIds.push(ids);
    t.steps.topLogits.push(logits);
    t.steps.topLogprobs.push(logits.map((v) => Math.fround(v - lse)));
    t.steps.margin.push(Math.fround(logits[0]! - logits[1]!));
    t.steps.hash.push(hex(hash('row', branch, s)) + hex(eps ? hash(noiseSeed, branch, s) : 0));
    if (forced) {
      const fed = forced[s] ?? chosen;
      t.steps.forced!.push(fed);
      // Teacher forcing keeps the reference's prefix whatever the model chose.
    } else if (chosen !== refChoice) branch = hash('branch', branch, s, chosen);
  }
  return t;
}

function common(r: RunnerSpec, prompt: number, setting: (typeof SETTINGS)[number], rep: number, mode: 'free' | 'teacher-forced', refId?: string): RecordCommon {
  const promptId = `p${String(prompt).padStart(3, '0')}`;
  const id = `${SUITE.id}/${promptId}/${setting.id}/${r.id}/b1/r${rep}${mode === 'teacher-forced' ? '/tf' : ''}`;
  return recordCommon({
    id,
    suite: SUITE,
    prompt: { id: promptId, text: `Prompt ${prompt}: explain why </script> floating-point sums <b>differ</b> between kernels.` },
    setting: { ...setting, maxNewTokens: 512 },
    runner: { id: r.id, type: r.type, options: {} },
    repetition: rep,
    batchSize: 1,
    mode,
    ...(refId ? { referenceId: refId } : {}),
    model: { name: 'Qwen2.5-0.5B-Instruct', file: 'onnx/model.onnx', sha256: 'f'.repeat(64) },
    tool: { detbench: '0.1.0', onnxruntime: r.remote ? null : '1.29.0', node: '20.19.0' },
    profile: { id: r.profile, fingerprint: FINGERPRINTS[r.profile]! },
    startedAt: '2026-11-22T12:00:00.000Z',
    finishedAt: '2026-11-22T12:00:05.000Z',
  });
}

function completed(r: RunnerSpec, c: RecordCommon, t: Trace, jitter: () => number): CompletedRecord {
  const texts = t.tokens.map(textOf);
  const remote = r.remote === true;
  const ttft = r.ttftMs * (0.9 + jitter() * 0.25);
  const tps = r.tokensPerSecond * (0.9 + jitter() * 0.2);
  const steps = remote
    ? { ...t.steps, token: [], topIds: t.steps.topIds.map(() => []), topTokens: t.steps.topIds.map((ids) => ids.map(textOf)), topLogits: t.steps.topIds.map(() => []), hash: t.steps.hash.map(() => '') }
    : t.steps;
  return completedRecord(c, {
    provider: { requested: r.provider, effective: r.provider },
    environment: { runtime: r.type },
    promptTokens: [151644, 872, 198],
    tokens: remote ? [] : t.tokens,
    tokenTexts: texts,
    text: texts.join(''),
    steps,
    finishReason: 'length',
    timings: { ttftMs: ttft, stepMs: t.tokens.map(() => 1000 / tps), tokensPerSecond: tps, totalMs: ttft + (t.tokens.length * 1000) / tps, sessionMs: r.sessionMs },
    batch: { size: 1, index: 0 },
  });
}

/**
 * Produces the records, calling `emit(profileId, record)` for each (streamed, so a million steps
 * never sit in memory at once). Returns the number of completed decode steps.
 */
export function makeSyntheticResults(emit: (profile: string, r: ResultRecord) => void, opts: SyntheticOptions = {}): number {
  const reps = opts.repetitions ?? 10;
  const mean = opts.stepsPerRecord ?? 256;
  const perPrompt = SETTINGS.length * reps * (RUNNERS.length + RUNNERS.filter((r) => r.teacherForced).length) * mean;
  const prompts = opts.prompts ?? Math.max(1, Math.round((opts.targetSteps ?? 1_000_000) / perPrompt));
  const seed = opts.seed ?? 1;
  let steps = 0;
  for (let p = 0; p < prompts; p++) {
    const length = Math.max(4, Math.round(mean * (0.75 + (hash('len', seed, p) % 1000) / 2000)));
    for (const setting of SETTINGS) {
      const branch0 = hash('prompt', seed, p, setting.id);
      const sampled = setting.sampling.kind === 'sample';
      const refTokens = new Map<string, number[]>();
      for (const r of RUNNERS) {
        const jitter = rng(hash('time', r.id, r.profile, p, setting.id));
        for (let rep = 0; rep < reps; rep++) {
          const c = common(r, p, setting, rep, 'free');
          if (r.remote && hash('429', p, setting.id, rep) % 97 === 0) {
            emit(r.profile, erroredRecord(c, { code: 'HTTP_429', message: 'rate limited by the API (429 Too Many Requests)' }));
            continue;
          }
          const noiseSeed = hash(r.id, r.profile, r.perRepetition ? rep : -1);
          const t = trace(branch0, length, sampled, noiseSeed, r.eps, null);
          if (r.id === 'node-cpu') refTokens.set(`${r.profile}/${rep}`, t.tokens);
          emit(r.profile, completed(r, c, t, jitter));
          steps += t.tokens.length;
        }
      }
      for (const r of RUNNERS.filter((x) => x.teacherForced)) {
        const jitter = rng(hash('tf-time', r.id, p, setting.id));
        for (let rep = 0; rep < reps; rep++) {
          const refId = `${SUITE.id}/p${String(p).padStart(3, '0')}/${setting.id}/node-cpu/b1/r${rep}`;
          const c = common(r, p, setting, rep, 'teacher-forced', refId);
          const fed = refTokens.get(`${r.profile}/${rep}`)!;
          const t = trace(branch0, fed.length, sampled, hash(r.id, r.profile, r.perRepetition ? rep : -1), r.eps, fed);
          emit(r.profile, completed(r, c, t, jitter));
          steps += t.tokens.length;
        }
      }
    }
  }
  // A runner that could not run on one machine: every cell skipped, with the reason.
  const skipped: RunnerSpec = { ...RUNNERS[2]!, profile: 'server-a100' };
  for (let p = 0; p < Math.min(prompts, 3); p++) {
    emit(skipped.profile, skippedRecord(common(skipped, p, SETTINGS[0]!, 0, 'free'), 'no WebGPU adapter: navigator.gpu.requestAdapter() returned null (headless, no GPU)'));
  }
  return steps;
}

/** Writes one JSONL file per profile under `dir`; returns the paths and the step count. */
export function writeSyntheticResults(dir: string, opts: SyntheticOptions = {}): { files: string[]; steps: number; bytes: number } {
  mkdirSync(dir, { recursive: true });
  const fds = new Map<string, { fd: number; file: string }>();
  let bytes = 0;
  const steps = makeSyntheticResults((profile, r) => {
    let f = fds.get(profile);
    if (!f) {
      const file = join(dir, `${profile}.jsonl`);
      f = { fd: openSync(file, 'w'), file };
      fds.set(profile, f);
    }
    bytes += writeSync(f.fd, `${JSON.stringify(r)}\n`);
  }, opts);
  for (const f of fds.values()) closeSync(f.fd);
  return { files: [...fds.values()].map((f) => f.file), steps, bytes };
}

/**
 * Writes the same records as the shards of a `run --shard i/n` would: prompt × setting units
 * round-robin over `count` files (`shard-<i>.jsonl`), each record carrying its shard and that
 * shard's planned record count (counted in a first pass over the deterministic generator).
 */
export function writeSyntheticShards(dir: string, count: number, opts: SyntheticOptions = {}): { files: string[]; steps: number; bytes: number } {
  mkdirSync(dir, { recursive: true });
  const shardOf = (r: ResultRecord) => ((Number(r.prompt.id.slice(1)) * SETTINGS.length + SETTINGS.findIndex((s) => s.id === r.setting.id)) % count) + 1;
  const planned = new Array<number>(count + 1).fill(0);
  makeSyntheticResults((_p, r) => void planned[shardOf(r)]!++, opts);
  const files = Array.from({ length: count }, (_, i) => join(dir, `shard-${i + 1}.jsonl`));
  const fds = files.map((f) => openSync(f, 'w'));
  let bytes = 0;
  const steps = makeSyntheticResults((_p, r) => {
    const index = shardOf(r);
    bytes += writeSync(fds[index - 1]!, `${JSON.stringify({ ...r, shard: { index, count, planned: planned[index]! } })}\n`);
  }, opts);
  for (const fd of fds) closeSync(fd);
  return { files, steps, bytes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const out = arg('--out') ?? 'out/synthetic';
  const t0 = performance.now();
  const { files, steps, bytes } = writeSyntheticResults(out, { targetSteps: Number(arg('--steps') ?? 1_000_000) });
  console.log(`${steps} steps, ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${files.join(' ')}`);
}
