import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CAPTURE_STEP, type CapturedRows, type CaptureEncoding, RowCapture } from '../src/decode/capture.ts';
import { summarizeRow } from '../src/decode/logits.ts';
import { type CaptureSource, computeMetrics, DivergenceAccumulator, teacherDivergence, topKStep, wilson } from '../src/metrics/index.ts';
import type { CompletedRecord } from '../src/results/record.ts';

interface GoldenStep {
  p: number[];
  q: number[];
  token: number;
  kl: number;
  klTopKBound: number;
  dp: number;
  sameTop: boolean;
}
interface Golden {
  vocab: number;
  topK: number;
  steps: GoldenStep[];
  summary: {
    kl: { mean: number; se: number; percentiles: Record<string, number> };
    dp: { mean: number; se: number; rms: number; rmsSe: number; percentiles: Record<string, number> };
    sameTop: { k: number; n: number; se: number };
  };
}

/** Written by scripts/divergence_reference.py (numpy/scipy, in probability space). */
const golden = JSON.parse(readFileSync(new URL('./fixtures/divergence-golden.json', import.meta.url), 'utf8')) as Golden;

/** A completed record over the given logits rows, its top-k recorded as the decode loop does. */
function record(id: string, rows: Float32Array[], tokens: number[], mode: 'free' | 'teacher-forced'): CompletedRecord {
  const sums = rows.map((r) => summarizeRow(r, golden.topK));
  return {
    schemaVersion: 2,
    id,
    suite: { id: 's', file: 's.yaml' },
    prompt: { id: 'p', text: 'x' },
    setting: { id: 'greedy', sampling: { kind: 'greedy' }, maxNewTokens: rows.length },
    runner: { id: mode === 'free' ? 'ref' : 'other', type: 'node-cpu', options: {} },
    repetition: 0,
    batchSize: 1,
    mode,
    ...(mode === 'teacher-forced' ? { referenceId: 's/p/greedy/ref/b1/r0' } : {}),
    model: null,
    tool: { detbench: '0', onnxruntime: null, node: '20' },
    profile: { id: 'm', fingerprint: { cpuModel: 'x', cpuCores: 2, os: 'linux', arch: 'x64', memoryGiB: 8, node: '20' } },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    status: 'completed',
    provider: { requested: 'cpu', effective: 'cpu' },
    environment: {},
    promptTokens: [0],
    tokens: mode === 'free' ? tokens : sums.map((s) => s.ids[0]!),
    tokenTexts: tokens.map((t) => `t${t}`),
    text: '',
    steps: {
      token: mode === 'free' ? tokens : sums.map((s) => s.ids[0]!),
      ...(mode === 'teacher-forced' ? { forced: tokens } : {}),
      topIds: sums.map((s) => s.ids),
      topLogits: sums.map((s) => s.logits),
      topLogprobs: sums.map((s) => s.logprobs),
      margin: sums.map((s) => s.margin),
      hash: sums.map((s) => s.hash),
    },
    finishReason: 'length',
    timings: { ttftMs: 1, stepMs: rows.map(() => 1), tokensPerSecond: 1, totalMs: 1, sessionMs: 1 },
    batch: { size: 1, index: 0 },
  };
}

function capture(rows: Float32Array[], encoding: CaptureEncoding): CapturedRows {
  const c = new RowCapture(encoding, golden.vocab);
  for (const r of rows) c.push(r);
  return c.finish();
}

const pRows = golden.steps.map((s) => Float32Array.from(s.p));
const qRows = golden.steps.map((s) => Float32Array.from(s.q));
const tokens = golden.steps.map((s) => s.token);
const ref = record('s/p/greedy/ref/b1/r0', pRows, tokens, 'free');
const tf = record('s/p/greedy/other/b1/r0/tf', qRows, tokens, 'teacher-forced');
function sourceOf(encoding: CaptureEncoding): CaptureSource {
  const captures = new Map<CompletedRecord, CapturedRows>([
    [ref, capture(pRows, encoding)],
    [tf, capture(qRows, encoding)],
  ]);
  return { rows: (r) => captures.get(r) };
}
const source = sourceOf('f32');

describe('Wilson score interval', () => {
  it('matches the published 95% intervals (Newcombe 1998, Table I, method 3)', () => {
    const cases: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
      [29, 29, 0.883, 1],
    ];
    for (const [k, n, lo, hi] of cases) {
      const w = wilson(k, n)!;
      expect([Number(w.lo.toFixed(4)), Number(w.hi.toFixed(4))]).toEqual([lo, hi]);
    }
    expect(wilson(0, 0)).toBeNull();
    expect(() => wilson(3, 2)).toThrow(RangeError);
  });
});

describe('teacher-forced divergence against an independent computation', () => {
  it('gives the top-k lower bound, Δp and same top exactly from the recorded candidates', () => {
    golden.steps.forEach((s, i) => {
      const d = topKStep(
        { ids: ref.steps.topIds[i]!, logprobs: ref.steps.topLogprobs[i]! },
        { ids: tf.steps.topIds[i]!, logprobs: tf.steps.topLogprobs[i]! },
        s.token,
      );
      expect(d.kl).toBeCloseTo(s.klTopKBound, 12);
      expect(d.kl!).toBeLessThanOrEqual(s.kl + 1e-15);
      expect(d.sameTop).toBe(s.sameTop);
      // Δp is exact whenever both lists name the token; otherwise the bound leaves it open.
      if (d.dp !== null) expect(d.dp).toBeCloseTo(s.dp, 12);
    });
  });

  it('gives KL and every Δp exactly from captured float32 rows', () => {
    const d = teacherDivergence(tf, ref, golden.steps.length, source);
    expect(d.basis).toBe('full');
    golden.steps.forEach((s, i) => {
      expect(d.kl[i]).toBeCloseTo(s.kl, 13);
      expect(d.dp[i]).toBeCloseTo(s.dp, 13);
      expect(d.sameTop[i]).toBe(s.sameTop);
    });
    expect(d.kl[7]).toBe(0);
    expect(d.dp[7]).toBe(0);
  });

  it('gives KL from uint16 captures within the stated quantisation error', () => {
    const d = teacherDivergence(tf, ref, golden.steps.length, sourceOf('u16'));
    expect(d.basis).toBe('full');
    golden.steps.forEach((s, i) => {
      // The README's bound: about CAPTURE_STEP · sqrt(2 · KL), first order in the rounding.
      expect(Math.abs(d.kl[i]! - s.kl)).toBeLessThan(CAPTURE_STEP * Math.sqrt(2 * s.kl) + 1e-8);
      expect(Math.abs(d.dp[i]! - s.dp)).toBeLessThan(CAPTURE_STEP);
    });
    // Bitwise-identical rows quantise identically: exactly zero.
    expect(d.kl[7]).toBe(0);
  });

  it('aggregates as llama.cpp does: mean ± SE, percentiles, RMS Δp, same top ± binomial SE', () => {
    const acc = new DivergenceAccumulator();
    for (const s of golden.steps) acc.add({ kl: s.kl, dp: s.dp, sameTop: s.sameTop }, 'full');
    const got = acc.summary();
    const want = golden.summary;
    expect(got.steps).toBe(golden.steps.length);
    expect(got.kl.mean).toBeCloseTo(want.kl.mean, 14);
    expect(got.kl.se).toBeCloseTo(want.kl.se, 14);
    for (const [k, v] of Object.entries(want.kl.percentiles)) expect(got.kl.percentiles![k]).toBeCloseTo(v, 14);
    for (const [k, v] of Object.entries(want.dp.percentiles)) expect(got.dp.percentiles![k]).toBeCloseTo(v, 14);
    expect(got.dp.mean).toBeCloseTo(want.dp.mean, 14);
    expect(got.dp.se).toBeCloseTo(want.dp.se, 14);
    expect(got.dp.rms).toBeCloseTo(want.dp.rms, 14);
    expect(got.dp.rmsSe).toBeCloseTo(want.dp.rmsSe, 12);
    expect([got.sameTop.k, got.sameTop.n]).toEqual([want.sameTop.k, want.sameTop.n]);
    expect(got.sameTop.se).toBeCloseTo(want.sameTop.se, 14);
    expect(got.sameTop.ci).toEqual(wilson(want.sameTop.k, want.sameTop.n));
  });

  it('has no standard error with 10 steps or fewer (llama.cpp prints 0 there)', () => {
    const acc = new DivergenceAccumulator();
    for (const s of golden.steps.slice(0, 10)) acc.add({ kl: s.kl, dp: s.dp, sameTop: s.sameTop }, 'top-k');
    const got = acc.summary();
    expect(got.basis).toBe('top-k');
    expect(got.kl.se).toBeNull();
    expect(got.kl.mean).toBeCloseTo(golden.steps.slice(0, 10).reduce((a, s) => a + s.kl, 0) / 10, 14);
  });

  it('flows through computeMetrics: exact with a capture, a bound without', () => {
    const withCapture = computeMetrics([ref, tf], { capture: source }).teacherForced.byPair[0]!;
    expect(withCapture.divergence.basis).toBe('full');
    expect(withCapture.divergence.kl.mean).toBeCloseTo(golden.summary.kl.mean, 13);
    expect(withCapture.divergence.sameTop.k).toBe(golden.summary.sameTop.k);

    const bound = computeMetrics([ref, tf]).teacherForced.byPair[0]!;
    expect(bound.divergence.basis).toBe('top-k');
    const meanBound = golden.steps.reduce((a, s) => a + s.klTopKBound, 0) / golden.steps.length;
    expect(bound.divergence.kl.mean).toBeCloseTo(meanBound, 12);
    expect(bound.divergence.kl.mean!).toBeLessThanOrEqual(withCapture.divergence.kl.mean!);
  });
});
