import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNERS } from '../runners/index.ts';
import type { DecodeRequest } from '../src/decode/types.ts';
import { type Engine, openEngine } from '../src/serve/engine.ts';

// Which companions change a request's logits? On the shipped model (fp32, node-cpu, one thread) the
// answer is their prompt lengths: a longer companion left-pads the request's row, and the masked
// positions change how the attention sums. (The README's serve section cites these facts.)
const MODEL = fileURLToPath(new URL('../models/detbench-tiny', import.meta.url));
let engine: Engine;
beforeAll(async () => {
  engine = await openEngine({ runners: RUNNERS, modelDir: MODEL, runner: 'node-cpu', batching: null });
});
afterAll(async () => engine?.close());

const TARGET = 'A list in Python is';
const request = (text: string): DecodeRequest => ({
  promptIds: engine.encodePrompt(text),
  maxNewTokens: 24,
  sampling: { kind: 'greedy' },
  stopIds: [],
  topK: 2,
});
/** The target's per-step logits hashes, decoded in one static batch with `companions`. */
async function hashesWith(companions: string[]): Promise<string[]> {
  const [target] = await engine.decodeBatch([request(TARGET), ...companions.map(request)], () => {});
  return target!.steps.hash;
}
const sameSteps = (a: string[], b: string[]) => a.filter((h, i) => h === b[i]).length;

describe('batch variance on the shipped model: the companions that matter are the ones that pad', () => {
  it('companions no longer than the request leave its logits bitwise as alone; equal-length companions give equal logits', async () => {
    const alone = await hashesWith([]);
    expect(engine.encodePrompt(TARGET)).toHaveLength(5);
    for (const short of [['x'], ['Hi'], ['x', 'y', 'Hi']]) expect(sameSteps(await hashesWith(short), alone), short.join('|')).toBe(24);
    // Two different 6-token companions: different content, same padding, the same bits.
    const a = await hashesWith(['The module provides functions for the']);
    const b = await hashesWith(['The module provides functions for reading']);
    expect(engine.encodePrompt('The module provides functions for the')).toHaveLength(6);
    expect(engine.encodePrompt('The module provides functions for reading')).toHaveLength(6);
    expect(b).toEqual(a);
  });

  it('padded by a longer companion, the request gets other logits than alone', async () => {
    const alone = await hashesWith([]);
    const byPad: Record<number, number> = {};
    const companions = ['The module provides functions for the', 'When an exception is raised inside a function that was called from a loop, the interpreter'];
    for (const c of companions) byPad[engine.encodePrompt(c).length - 5] = sameSteps(await hashesWith([c]), alone);
    // Which paddings change the row depends on the CPU's kernels; on the AMD EPYC 2-core VM
    // (onnxruntime 1.29.0) it printed { 1: 0, 12: 24 }: one token of padding changed all 24 steps,
    // twelve changed none.
    console.log('steps bitwise equal to alone, by tokens of left padding:', byPad);
    expect(Math.min(...Object.values(byPad))).toBeLessThan(24);
  });
});
