/** The synthetic study's records, built with the executor's own record builder. */
import { completedRecord, erroredRecord, recordCommon, skippedRecord } from '../../src/results/build.ts';
import type { CompletedRecord, RecordCommon, ResultRecord } from '../../src/results/record.ts';
import { hash, rng } from './random.ts';
import { FINGERPRINTS, RUNNERS, type RunnerSpec, SETTINGS, SUITE } from './study.ts';
import { type Trace, textOf, trace } from './trace.ts';

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
    ? {
        ...t.steps,
        token: [],
        topIds: t.steps.topIds.map(() => []),
        topTokens: t.steps.topIds.map((ids) => ids.map(textOf)),
        topLogits: t.steps.topIds.map(() => []),
        hash: t.steps.hash.map(() => ''),
      }
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
    timings: {
      ttftMs: ttft,
      stepMs: t.tokens.map(() => 1000 / tps),
      tokensPerSecond: tps,
      totalMs: ttft + (t.tokens.length * 1000) / tps,
      sessionMs: r.sessionMs,
    },
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
    emit(
      skipped.profile,
      skippedRecord(common(skipped, p, SETTINGS[0]!, 0, 'free'), 'no WebGPU adapter: navigator.gpu.requestAdapter() returned null (headless, no GPU)'),
    );
  }
  return steps;
}
