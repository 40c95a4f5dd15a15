/** One record's steps: a runner's noisy walk along the reference model's branches. */
import type { CompletedRecord } from '../../src/results/record.ts';
import { hash, rng } from './random.ts';
import { TOP_K, WORDS } from './study.ts';

export const textOf = (id: number): string => WORDS[id % WORDS.length]!;
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

export interface Trace {
  tokens: number[];
  steps: CompletedRecord['steps'];
}

/**
 * Walks a branch with a runner's noise. The runner picks by the order of its own (noisy) logits;
 * the first time that pick differs from the reference kernel's, the runner continues on a branch of its own.
 */
export function trace(branch0: number, length: number, sampled: boolean, noiseSeed: number, eps: number, forced: number[] | null): Trace {
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
