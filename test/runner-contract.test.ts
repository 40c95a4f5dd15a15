// One small cell on every runner that can run here: the same requests in, outcomes of the same
// shape out, the provider asked for is the one used. Add a runner by adding a row to CONTRACT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestOf, type RunnerType } from '../runners/index.ts';
import { loadModel } from '../src/model/load.ts';
import type { LoadedModel } from '../src/model/types.ts';
import type { RunnerManifest } from '../src/runner-contract/manifest.ts';
import type { Generation, GenerationRequest, RunnerSession } from '../src/runner-contract/types.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

/** Runners under contract, with the options they run the cell with. */
const CONTRACT: { type: RunnerType; options: Record<string, unknown> }[] = [
  { type: 'node-cpu', options: { intra_op_threads: 1 } },
  { type: 'node-webgpu', options: { vulkan_icd: 'swiftshader' } },
  { type: 'browser-wasm', options: {} },
  { type: 'browser-webgpu', options: {} },
];

const NEW_TOKENS = 4;
const TOP_K = 3;
const PROMPTS = ['hello world', 'the quick brown fox jumps'];
const SETTINGS = [
  { name: 'greedy', sampling: { kind: 'greedy' } },
  { name: 'sampled', sampling: { kind: 'sample', temperature: 0.9, topK: 8, topP: 0.95, seed: 3 } },
] as const;
/** A step whose reference margin (top-1 minus top-2 logit) is below this is a near tie: kernels may split it. */
const NEAR_TIE = 1e-3;

const modelDir = await tinyModelDir();
const available = await Promise.all(
  CONTRACT.map(async (c) => {
    // Any manifest: its parsed options go to its own runner.
    const manifest: RunnerManifest = manifestOf(c.type);
    const runner = await manifest.load();
    const options = manifest.options.parse(c.options);
    const probe = await runner.probe(options).catch((err: unknown) => ({ available: false as const, reason: String(err) }));
    if (!probe.available) console.warn(`runner contract: ${c.type} skipped: ${probe.reason}`);
    return { ...c, runner, options, probe };
  }),
);
const runnable = available.filter((a) => a.probe.available);

/** Every runner's generations: results[type][setting] = one generation per prompt (one batch). */
const results = new Map<RunnerType, Map<string, Generation[]>>();
const sessions = new Map<RunnerType, RunnerSession>();
let model: LoadedModel;

beforeAll(async () => {
  model = await loadModel(modelDir);
  for (const r of runnable) {
    const session = await r.runner.open(model, r.options);
    sessions.set(r.type, session);
    const bySetting = new Map<string, Generation[]>();
    for (const s of SETTINGS) {
      const requests: GenerationRequest[] = PROMPTS.map((text) => ({
        promptIds: model.tokenizer.encode(text),
        promptText: text,
        maxNewTokens: NEW_TOKENS,
        sampling: s.sampling,
        stopIds: [],
        topK: TOP_K,
      }));
      const outcomes = await session.generate(requests);
      bySetting.set(
        s.name,
        outcomes.map((o) => {
          if (o.status !== 'completed') throw new Error(`${r.type} ${s.name}: ${o.error.code}: ${o.error.message}`);
          return o.generation;
        }),
      );
    }
    results.set(r.type, bySetting);
  }
}, 300_000);

afterAll(async () => {
  for (const s of sessions.values()) await s.close();
});

/** Steps before the first near tie of the reference: up to there every runner must agree. */
function decisiveSteps(ref: Generation): number {
  const i = ref.steps.margin.findIndex((m) => m < NEAR_TIE);
  return i < 0 ? ref.tokens.length : i;
}

for (const r of available) {
  describe.skipIf(!r.probe.available)(`runner contract: ${r.type}`, () => {
    it('uses the execution provider it was asked for', () => {
      const p = sessions.get(r.type)!.provider;
      expect(p.effective).toBe(p.requested);
      expect(sessions.get(r.type)!.sessionMs).toBeGreaterThan(0);
    });

    for (const s of SETTINGS) {
      it(`${s.name}: one completed generation of the same shape per request`, () => {
        const gens = results.get(r.type)!.get(s.name)!;
        expect(gens).toHaveLength(PROMPTS.length);
        gens.forEach((g, index) => {
          expect(g.tokens).toHaveLength(NEW_TOKENS);
          expect(g.finishReason).toBe('length');
          expect(g.batch).toEqual({ size: PROMPTS.length, index });
          for (const col of [g.steps.token, g.steps.topIds, g.steps.topLogits, g.steps.topLogprobs, g.steps.margin, g.steps.hash])
            expect(col).toHaveLength(NEW_TOKENS);
          for (const ids of g.steps.topIds) expect(ids).toHaveLength(TOP_K);
          expect(g.steps.token).toEqual(g.tokens);
          expect(g.timings.stepMs).toHaveLength(NEW_TOKENS);
        });
      });

      if (r.type !== 'node-cpu') {
        it(`${s.name}: agrees with node-cpu on the tiny model`, () => {
          const ref = results.get('node-cpu')?.get(s.name);
          if (!ref) return expect.fail('node-cpu results missing');
          const gens = results.get(r.type)!.get(s.name)!;
          gens.forEach((g, i) => {
            const want = ref[i]!;
            if (r.type === 'browser-wasm') {
              // Both are fp32 CPU kernels; on this random model no step is a near tie, so the tokens match.
              expect(g.tokens).toEqual(want.tokens);
            } else {
              const n = decisiveSteps(want);
              expect(g.tokens.slice(0, n)).toEqual(want.tokens.slice(0, n));
            }
            // Logits agree closely, though not necessarily bit for bit (different kernels, different summation order).
            const until = decisiveSteps(want);
            for (let step = 0; step < until; step++) {
              for (const [k, v] of want.steps.topLogits[step]!.entries()) expect(Math.abs(g.steps.topLogits[step]![k]! - v)).toBeLessThan(1e-3);
            }
          });
        });
      }
    }
  });
}
