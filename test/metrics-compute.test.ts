import { describe, expect, it } from 'vitest';
import {
  comparePair,
  computeMetrics,
  countCompletions,
  exactMatchRate,
  firstDivergence,
  median,
  type PairComparison,
  tarr,
  wilson,
} from '../src/metrics/index.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';

/** A tiny record. Each step's top-2 is [chosen, chosen+100] with logits [10, 10 - margin] (+ `shift`). */
interface Spec {
  runner?: string;
  rep?: number;
  prompt?: string;
  profile?: string;
  tokens?: number[];
  texts?: string[];
  margins?: number[];
  /** Added to every logit of the step (simulates drift). */
  shift?: number[];
  hash?: string[];
  remote?: boolean;
  mode?: 'free' | 'teacher-forced';
  referenceId?: string;
  forced?: number[];
}

function rec(s: Spec): CompletedRecord {
  const runner = s.runner ?? 'a';
  const tokens = s.tokens ?? [1, 2, 3];
  const rep = s.rep ?? 0;
  const prompt = s.prompt ?? 'p1';
  const mode = s.mode ?? 'free';
  const n = s.remote ? (s.texts ?? []).length : tokens.length;
  const idx = [...Array(n).keys()];
  return {
    schemaVersion: 2,
    id: `s/${prompt}/greedy/${runner}/b1/r${rep}${mode === 'teacher-forced' ? '/tf' : ''}`,
    suite: { id: 's', file: 's.yaml' },
    prompt: { id: prompt, text: 'Hello' },
    setting: { id: 'greedy', sampling: { kind: 'greedy' }, maxNewTokens: 8 },
    runner: { id: runner, type: s.remote ? 'remote-api' : 'node-cpu', options: {} } as CompletedRecord['runner'],
    repetition: rep,
    batchSize: 1,
    mode,
    ...(s.referenceId ? { referenceId: s.referenceId } : {}),
    model: null,
    tool: { detbench: '0', onnxruntime: null, node: '20' },
    profile: { id: s.profile ?? 'laptop', fingerprint: { cpuModel: 'x', cpuCores: 2, os: 'linux', arch: 'x64', memoryGiB: 8, node: '20' } },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    status: 'completed',
    provider: { requested: 'cpu', effective: 'cpu' },
    environment: {},
    promptTokens: [0],
    tokens: s.remote ? [] : tokens,
    tokenTexts: s.texts ?? tokens.map((t) => `t${t}`),
    text: (s.texts ?? tokens.map((t) => `t${t}`)).join(''),
    steps: {
      token: s.remote ? [] : tokens,
      ...(s.forced ? { forced: s.forced } : {}),
      topIds: s.remote ? idx.map(() => []) : tokens.map((t) => [t, t + 100]),
      ...(s.remote ? { topTokens: idx.map((i) => [s.texts![i]!, 'alt']) } : {}),
      topLogits: s.remote ? idx.map(() => []) : idx.map((i) => [10 + (s.shift?.[i] ?? 0), 10 - (s.margins?.[i] ?? 1) + (s.shift?.[i] ?? 0)]),
      topLogprobs: idx.map((i) => [-0.1 + (s.shift?.[i] ?? 0), -2]),
      margin: idx.map((i) => s.margins?.[i] ?? 1),
      hash: s.hash ?? idx.map((i) => `h${i}`),
    },
    finishReason: 'length',
    timings: { ttftMs: 50, stepMs: idx.map(() => 10), tokensPerSecond: 100, totalMs: 80, sessionMs: 900 },
    batch: { size: 1, index: 0 },
  };
}

function problem(runner: string, status: 'errored' | 'skipped', rep = 1): ResultRecord {
  const { status: _s, ...base } = rec({ runner, rep });
  void _s;
  return status === 'errored'
    ? ({ ...base, status: 'errored', error: { code: 'OOM', message: 'out of memory' } } as ResultRecord)
    : ({ ...base, status: 'skipped', reason: 'no WebGPU adapter' } as ResultRecord);
}

const diverged = (p: PairComparison) => {
  if (p.outcome !== 'diverged') throw new Error(`expected a divergence, got ${p.outcome}`);
  return p;
};

describe('small helpers', () => {
  it('finds the first divergence, the shorter length for a prefix, null for equal', () => {
    expect(firstDivergence([1, 2, 3], [1, 2, 4])).toBe(2);
    expect(firstDivergence([1, 2], [1, 2, 3])).toBe(2);
    expect(firstDivergence(['a'], ['a'])).toBeNull();
  });

  it('counts completions, exact-match rate and TARr', () => {
    const c = countCompletions(['x', 'x', 'y', 'x']);
    expect(c).toEqual({ unique: 2, modalCount: 3, total: 4 });
    expect(exactMatchRate(c)).toBe(0.75);
    // Groups of one run say nothing about agreement and are left out.
    expect(tarr([c, countCompletions(['z', 'z', 'z']), countCompletions(['q'])])).toEqual({ rate: 0.5, groups: 2, n: 3, agreeing: 1, ci: wilson(1, 2) });
    expect(median([3, null, 1, 2, Infinity])).toBe(2);
  });
});

describe('computeMetrics: agreement', () => {
  const records = [
    // p1: three identical repetitions; p2: one of three differs.
    rec({ rep: 0 }),
    rec({ rep: 1 }),
    rec({ rep: 2 }),
    rec({ prompt: 'p2', rep: 0 }),
    rec({ prompt: 'p2', rep: 1 }),
    rec({ prompt: 'p2', rep: 2, tokens: [1, 2, 9] }),
  ];
  const m = computeMetrics(records);

  it('groups by suite/prompt/setting/batch and counts unique completions', () => {
    expect(m.groups.map((g) => g.key)).toEqual(['s/p1/greedy/b1', 's/p2/greedy/b1']);
    expect(m.groups.map((g) => g.uniqueCompletions)).toEqual([1, 2]);
  });

  it('pools the exact-match rate and computes TARr@3 per runner', () => {
    const a = m.runners[0]!;
    expect(a.exactMatchRate).toBeCloseTo(5 / 6);
    expect(a.tarr).toEqual({ rate: 0.5, groups: 2, n: 3, agreeing: 1, ci: wilson(1, 2) });
    expect(a.uniqueCompletions).toEqual({ mean: 1.5, max: 2 });
  });

  it('compares each repetition with repetition 0 of the same runner', () => {
    const reps = m.groups[1]!.pairs.filter((p) => p.relation === 'repetition');
    expect(reps.map((p) => [p.a.repetition, p.b.repetition, p.outcome])).toEqual([
      [0, 1, 'identical'],
      [0, 2, 'diverged'],
    ]);
    expect(diverged(reps[1]!).firstDivergence).toBe(2);
  });

  it('returns plain JSON', () => {
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });
});

describe('computeMetrics: divergence against the reference runner', () => {
  const records = [
    rec({ runner: 'ref', tokens: [1, 2, 3, 4], margins: [1, 1, 0.01, 1] }),
    // b drifts a little (0.003 at step 1), then picks another token at the near tie of step 2.
    rec({ runner: 'b', tokens: [1, 2, 103, 4], margins: [1, 1, 0.02, 1], shift: [0, 0.003, 0, 0], hash: ['h0', 'x1', 'x2', 'x3'] }),
    // c agrees throughout, bitwise.
    rec({ runner: 'c', tokens: [1, 2, 3, 4], margins: [1, 1, 0.01, 1] }),
  ];
  const m = computeMetrics(records);
  const cross = m.groups[0]!.pairs.filter((p) => p.relation === 'cross-runner');

  it('takes the first runner seen as the reference', () => {
    expect(m.references).toEqual({ s: 'ref' });
    expect(cross.map((p) => `${p.a.runner}->${p.b.runner}`)).toEqual(['ref->b', 'ref->c']);
  });

  it('reports the index, near-tie margins and both top candidates at the split', () => {
    const p = diverged(cross[0]!);
    expect(p.basis).toBe('ids');
    expect(p.firstDivergence).toBe(2);
    expect(p.divergence.a.margin).toBe(0.01);
    expect(p.divergence.b.margin).toBe(0.02);
    expect(p.divergence.minMargin).toBe(0.01);
    expect(p.divergence.nearTie).toBe(true);
    expect(p.divergence.a.token).toEqual({ id: 3, text: 't3' });
    expect(p.divergence.b.token).toEqual({ id: 103, text: 't103' });
    expect(p.divergence.a.top.map((c) => c.id)).toEqual([3, 103]);
    expect(p.divergence.b.top[0]).toEqual({ id: 103, text: null, logit: 10, logprob: -0.1 });
  });

  it('measures logit drift (matched by token id) and bitwise identity before the split, and the drift at the split', () => {
    const p = diverged(cross[0]!);
    expect(p.logits.values).toBe('logits');
    expect(p.logits.max).toBeCloseTo(0.003);
    // Steps 0 and 1, two shared candidates each.
    expect(p.logits.candidates).toBe(4);
    expect(p.bitwise).toEqual({ equal: 1, compared: 2, share: 0.5 });
    // At the split, id 103 is ref's runner-up (9.99) and b's choice (10).
    expect(p.divergence.maxDiff).toBeCloseTo(0.01);
    expect(p.divergence.bitwiseEqual).toBe(false);
    const c = cross[1]!;
    expect(c.outcome).toBe('identical');
    expect(c.bitwise.share).toBe(1);
    expect(c.logits.max).toBe(0);
  });

  it('aggregates per runner pair and across runners', () => {
    const b = m.pairs.find((p) => p.relation === 'cross-runner' && p.b === 'b')!;
    expect(b).toMatchObject({ a: 'ref', pairs: 1, identical: 0, exactMatchRate: 0, nearTies: 1, firstDivergence: { count: 1, min: 2, median: 2, max: 2 } });
    expect(m.acrossRunners).toEqual({ rate: 0, groups: 1, n: 3, agreeing: 0, ci: wilson(0, 1) });
    expect(m.groups[0]!.allRunnersIdentical).toBe(false);
  });

  it('does not call a wide margin a near tie', () => {
    const wide = comparePair(rec({ tokens: [1, 2], margins: [1, 3] }), rec({ tokens: [1, 5], margins: [1, 2.5] }), {
      group: 'g',
      relation: 'cross-runner',
      basis: 'ids',
      runners: ['a', 'b'],
    });
    expect(diverged(wide).divergence).toMatchObject({ step: 1, minMargin: 2.5, nearTie: false });
  });

  it('accepts an explicit reference', () => {
    const m2 = computeMetrics(records, { reference: 'c' });
    expect(m2.references).toEqual({ s: 'c' });
    expect(m2.groups[0]!.pairs.filter((p) => p.relation === 'cross-runner').map((p) => p.b.runner)).toEqual(['ref', 'b']);
  });

  it('warns and falls back when the explicit reference is absent', () => {
    const m3 = computeMetrics(records, { reference: 'nope' });
    expect(m3.references).toEqual({ s: 'ref' });
    expect(m3.warnings.join()).toMatch(/nope/);
  });
});

describe('computeMetrics: remote-style records (no token ids)', () => {
  const records = [
    rec({ runner: 'ref', tokens: [1, 2, 3], texts: ['He', 'llo', '!'] }),
    rec({ runner: 'api', remote: true, texts: ['He', 'llo', '?'] }),
    rec({ runner: 'api', remote: true, rep: 1, texts: ['He', 'llo', '?'] }),
  ];
  const m = computeMetrics(records);

  it('compares token texts and matches candidates by text', () => {
    const p = diverged(m.groups[0]!.pairs.find((x) => x.relation === 'cross-runner')!);
    expect(p.basis).toBe('texts');
    expect(p.firstDivergence).toBe(2);
    expect(p.divergence.b.token).toEqual({ id: null, text: '?' });
    expect(p.divergence.b.top.map((c) => c.text)).toEqual(['?', 'alt']);
    // The reference has no topTokens, so no candidates can be matched on the text basis.
    expect(p.logits).toMatchObject({ values: null, candidates: 0, max: null });
  });

  it('counts identical remote repetitions', () => {
    const api = m.runners.find((r) => r.runner === 'api')!;
    expect(api.exactMatchRate).toBe(1);
    expect(api.tarr).toEqual({ rate: 1, groups: 1, n: 2, agreeing: 1, ci: wilson(1, 1) });
    expect(m.groups[0]!.pairs.find((x) => x.relation === 'repetition')!.outcome).toBe('identical');
  });
});

describe('computeMetrics: errored and skipped records', () => {
  const m = computeMetrics([rec({ runner: 'a' }), problem('a', 'errored'), problem('a', 'skipped', 2), rec({ runner: 'b' }), problem('b', 'skipped')]);

  it('counts them with their reasons but never compares them', () => {
    const a = m.runners.find((r) => r.runner === 'a')!;
    expect(a.records).toEqual({ completed: 1, errored: 1, skipped: 1, teacherForced: 0 });
    expect(a.problems).toEqual([
      { status: 'errored', reason: 'OOM', count: 1 },
      { status: 'skipped', reason: 'no WebGPU adapter', count: 1 },
    ]);
    expect(m.counts).toMatchObject({ records: 5, completed: 2, errored: 1, skipped: 2 });
    const g = m.groups[0]!;
    expect(g.runners.find((r) => r.runner === 'a')).toMatchObject({ completed: 1, errored: 1, skipped: 1, allIdentical: null });
    expect(g.pairs).toHaveLength(1);
    expect(g.pairs[0]!.relation).toBe('cross-runner');
  });
});

describe('computeMetrics: teacher-forced records', () => {
  const ref = rec({ runner: 'ref', tokens: [1, 2, 3, 4], margins: [1, 1, 0.2, 1] });
  // Fed 1,2,3,4; would have chosen 103 (ref's runner-up) at step 2; drifts by 0.25 at step 3; hashes equal at steps 0 and 1.
  const tf = rec({
    runner: 'gpu',
    mode: 'teacher-forced',
    referenceId: ref.id,
    tokens: [1, 2, 103, 4],
    forced: [1, 2, 3, 4],
    shift: [0, 0, 0, 0.25],
    hash: ['h0', 'h1', 'y2', 'y3'],
  });
  const m = computeMetrics([ref, rec({ runner: 'gpu', tokens: [1, 2, 103, 8] }), tf]);

  it('measures top-1 agreement, per-step drift and bitwise-equal steps over the whole sequence', () => {
    const [t] = m.teacherForced.records;
    expect(t).toMatchObject({ runner: 'gpu', reference: 'ref', steps: 4, agreeSteps: 3, top1Agreement: 0.75, disagreements: [2] });
    // Step 2 shares only id 103: 10 (gpu's choice) against 9.8 (ref's runner-up).
    const diffs = t!.stepMaxDiff.map((d) => Number(d!.toFixed(6)));
    expect(diffs).toEqual([0, 0, 0.2, 0.25]);
    expect(t!.maxDiff).toBe(0.25);
    expect(t!.bitwise).toEqual({ equal: 2, compared: 4, share: 0.5 });
    expect(m.teacherForced.byPair).toEqual([
      expect.objectContaining({ reference: 'ref', runner: 'gpu', records: 1, steps: 4, top1Agreement: 0.75, maxDiff: 0.25 }),
    ]);
  });

  it('keeps teacher-forced records out of the free-running groups', () => {
    expect(m.groups[0]!.runners.find((r) => r.runner === 'gpu')!.completed).toBe(1);
    expect(m.runners.find((r) => r.runner === 'gpu')!.records.teacherForced).toBe(1);
  });

  it('counts teacher-forced records whose reference is missing', () => {
    expect(computeMetrics([tf]).teacherForced.unmatched).toBe(1);
  });
});

describe('computeMetrics: several machines', () => {
  it('keeps the same runner id on two hardware profiles apart', () => {
    const m = computeMetrics([rec({ runner: 'cpu', profile: 'laptop' }), rec({ runner: 'cpu', profile: 'server', tokens: [1, 2, 4] })]);
    expect(m.runners.map((r) => r.runner)).toEqual(['cpu@laptop', 'cpu@server']);
    expect(diverged(m.groups[0]!.pairs[0]!).firstDivergence).toBe(2);
  });
});
