// The sampling explorer replays the sampler on recorded candidates: with the settings a record was
// sampled with and its draw, it must pick the very token the sampler chose, at every step where the
// recorded candidates determine the result (exact), on the markov control and the shipped model.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { drawsOf } from '../reports/explorer-data.ts';
import { explore } from '../reports/page/explore-math.ts';
import { manifestOf } from '../runners/index.ts';
import { markovRunner } from '../runners/markov/runner.ts';
import { nodeCpuRunner } from '../runners/node-cpu/runner.ts';
import { Mt19937 } from '../src/decode/mt19937.ts';
import type { Sampling } from '../src/decode/sampling.ts';
import type { StepTrace } from '../src/decode/types.ts';
import { loadModel } from '../src/model/load.ts';
import type { CompletedRecord } from '../src/results/record.ts';
import type { GenerationRequest } from '../src/runner-contract/types.ts';

const MODEL = await loadModel(path.join(fileURLToPath(new URL('..', import.meta.url)), 'models/detbench-tiny'));
const PROMPTS = ['A list in Python is', 'The module provides functions for', 'When'].map((text) => MODEL.tokenizer.encode(text));
const TOP = 10;
/** Sampled settings: top-k within the recorded candidates (exact), and top-k off (the unrecorded rest counts: approximate). */
const SETTINGS: Extract<Sampling, { kind: 'sample' }>[] = [
  { kind: 'sample', temperature: 0.8, topK: 10, topP: 0.95, seed: 7 },
  { kind: 'sample', temperature: 1.3, topK: 5, topP: 1, seed: 11 },
  { kind: 'sample', temperature: 1, topK: 0, topP: 0.6, seed: 3 },
];

type Gen = (reqs: GenerationRequest[]) => Promise<{ tokens: number[]; steps: StepTrace }[]>;

async function replayAll(generate: Gen): Promise<{ exact: number; matched: number; total: number }> {
  let exact = 0;
  let matched = 0;
  let total = 0;
  for (const sampling of SETTINGS) {
    const reqs = PROMPTS.map((promptIds) => ({ promptIds, promptText: '', maxNewTokens: 24, sampling, stopIds: [], topK: TOP }));
    for (const g of await generate(reqs)) {
      const rec = { steps: g.steps, tokens: g.tokens, setting: { sampling } } as unknown as CompletedRecord;
      const draws = drawsOf(rec);
      g.steps.topIds.forEach((ids, i) => {
        const logits = g.steps.topLogits[i]!;
        const r = explore({ ids, logits, lse: logits[0]! - g.steps.topLogprobs[i]![0]! }, sampling, draws[i]!);
        total++;
        if (!r.exact) return;
        exact++;
        expect(r.pick, `step ${i} of ${sampling.temperature}/${sampling.topK}/${sampling.topP}`).not.toBeNull();
        if (ids[r.pick!] === g.tokens[i]) matched++;
      });
    }
  }
  return { exact, matched, total };
}

describe('sampling explorer against the sampler', () => {
  it('drawsOf: a recorded steps.draw wins; otherwise the seeded generator, one draw per sampled step; greedy none', () => {
    const sampled = { kind: 'sample', temperature: 1, topK: 0, topP: 1, seed: 5 } as const;
    const withDraw = { steps: { token: [1, 2], draw: [0.25, 0.5] }, tokens: [1, 2], setting: { sampling: sampled } } as unknown as CompletedRecord;
    expect(drawsOf(withDraw)).toEqual([0.25, 0.5]);
    const rng = new Mt19937(5);
    const without = { steps: { token: [1, 2, 3] }, tokens: [1, 2, 3], setting: { sampling: sampled } } as unknown as CompletedRecord;
    expect(drawsOf(without)).toEqual([rng.random(), rng.random(), rng.random()]);
    const greedy = { steps: { token: [1, 2] }, tokens: [1, 2], setting: { sampling: { kind: 'greedy' } } } as unknown as CompletedRecord;
    expect(drawsOf(greedy)).toEqual([null, null]);
  });

  it('markov control: every exact step picks the recorded token', async () => {
    const session = await markovRunner.open(undefined, manifestOf('markov').options.parse({}));
    const res = await replayAll(async (reqs) =>
      (await session.generate(reqs)).map((o) => (o.status === 'completed' ? o.generation : expect.unreachable(o.error.message))),
    );
    // 3 settings × 3 prompts × 24 steps; the two with top-k ≤ 10 are exact at every step.
    expect(res.total).toBe(216);
    expect(res.exact).toBe(144);
    expect(res.matched).toBe(res.exact);
  });

  it('shipped model on node-cpu: every exact step picks the recorded token', async () => {
    const session = await nodeCpuRunner.open(MODEL, manifestOf('node-cpu').options.parse({ intra_op_threads: 1 }));
    try {
      const res = await replayAll(async (reqs) =>
        (await session.generate(reqs)).map((o) => (o.status === 'completed' ? o.generation : expect.unreachable(o.error.message))),
      );
      expect(res.total).toBe(216);
      expect(res.exact).toBe(144);
      expect(res.matched).toBe(res.exact);
    } finally {
      await session.close();
    }
  });

  it('explore: top-k keeps the first k, top-p the shortest prefix reaching p; the draw lands by running sum', () => {
    // Logits ln 4, ln 2, ln 1, ln 1 and nothing else in the row (lse = ln 8): probabilities 1/2, 1/4, 1/8, 1/8.
    // Candidates best first: ids 7, 3, 5, 9; the draw walks them by id: 3, 5, 7, 9.
    const step = { ids: [7, 3, 5, 9], logits: [Math.log(4), Math.log(2), 0, 0], lse: Math.log(8) };
    const all = explore(step, { temperature: 1, topK: 4, topP: 1 }, 0.7);
    expect(all.probs.map((p) => +p.toFixed(6))).toEqual([0.5, 0.25, 0.125, 0.125]);
    expect(all.tail).toBe(0);
    expect(all.order).toEqual([1, 2, 0, 3]);
    // 0.7 falls in [0.375, 0.875): id 3 (0.25), id 5 (0.125), then id 7 (0.5).
    expect(all.pick).toBe(0);
    expect(all.exact).toBe(true);
    const nucleus = explore(step, { temperature: 1, topK: 4, topP: 0.7 }, 0.7);
    expect(nucleus.kept).toEqual([true, true, false, false]);
    expect(nucleus.keptProbs.map((p) => +p.toFixed(6))).toEqual([0.666667, 0.333333, 0, 0]);
    expect(nucleus.pick).toBe(0); // by id: id 3 covers [0, 1/3), id 7 [1/3, 1)
    const k1 = explore(step, { temperature: 0.5, topK: 1, topP: 1 }, 0.99);
    expect(k1.pick).toBe(0);
    expect(k1.exact).toBe(true);
    expect(explore(step, { temperature: 1, topK: 0, topP: 1 }, 0.7).exact).toBe(false);
    // Half the row's mass unrecorded and top-k off at T ≠ 1: marked approximate.
    const partial = explore({ ids: [0, 1], logits: [0, 0], lse: Math.log(4) }, { temperature: 0.5, topK: 0, topP: 1 }, 0.1);
    expect(partial.exact).toBe(false);
  });
});
