// node --import tsx scripts/batch-flip-scan.ts [orders] [new-tokens] [model-file]
// The batch-invariance study's first pass: which prompts' greedy paths flip a token when the very
// same request is decoded in a continuous batch instead of alone? Decodes every prompt of
// suites/prompts/python-doc.txt (and a few more) alone, then `orders` times through one
// ContinuousBatch (up to 7 rows, joins of one or two requests at random step boundaries, MT19937
// seeded), and prints every completion that differs from its alone path, with the step and the alone
// path's top-1/top-2 margin there. Default fp16, 200 tokens, 3 orders (about 5 minutes on 2 cores).
import { readFileSync } from 'node:fs';
import { RUNNERS } from '../runners/index.ts';
import { Mt19937 } from '../src/decode/mt19937.ts';
import { openEngine } from '../src/serve/engine.ts';

const orders = Number(process.argv[2] ?? 3);
const newTokens = Number(process.argv[3] ?? 200);
const onnxFile = process.argv[4] ?? 'onnx/model_fp16.onnx';
const engine = await openEngine({ modelDir: 'models/detbench-tiny', onnxFile, runners: RUNNERS, runner: 'node-cpu', batching: null });
const docs = readFileSync('suites/prompts/python-doc.txt', 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'));
const extra = [
  'The quick brown fox',
  'Return the value of',
  'import os',
  'class Foo:',
  'If the file does not exist,',
  'def main():',
  'The following example shows',
  'Hi',
  'x',
  'When an exception is raised',
];
const prompts = [...new Set([...docs, ...extra])];
const eos = engine.model.config.eosTokenIds;
const request = (p: string) => {
  const ids = engine.encodePrompt(p);
  return {
    promptIds: ids,
    maxNewTokens: Math.min(newTokens, engine.model.config.maxPositions - ids.length),
    sampling: { kind: 'greedy' as const },
    stopIds: eos,
    topK: 2,
  };
};

const t0 = performance.now();
const alone = new Map<string, { tokens: number[]; margin: number[] }>();
for (const p of prompts) {
  const [r] = await engine.decodeBatch([request(p)], () => {});
  alone.set(p, { tokens: r!.tokens, margin: r!.steps.margin });
}
const nearTies = [...alone.values()].reduce((n, a) => n + a.margin.filter((m) => m === 0).length, 0);
console.log(
  `${prompts.length} prompts alone, ${newTokens} tokens, ${onnxFile}: ${nearTies} steps with an exact tie (margin 0), ${((performance.now() - t0) / 1000).toFixed(0)} s`,
);

const rng = new Mt19937(5);
let flips = 0;
for (let v = 0; v < orders; v++) {
  const order = [...prompts].sort(() => rng.random() - 0.5);
  const got = new Map<string, number[]>(order.map((p) => [p, []]));
  const batch = engine.openBatch<string>();
  const on = (e: { tag: string; token: number }) => got.get(e.tag)!.push(e.token);
  let next = 0;
  while (next < order.length || batch.size > 0) {
    if (batch.size < 7 && next < order.length) {
      const k = Math.min(1 + Math.floor(rng.random() * 2), order.length - next);
      await batch.join(
        order.slice(next, next + k).map((p) => ({ tag: p, req: request(p) })),
        on,
      );
      next += k;
    }
    if (batch.size > 0) await batch.step(on);
    for (let s = Math.floor(rng.random() * 8); s > 0 && batch.size > 0; s--) await batch.step(on);
  }
  for (const p of prompts) {
    const a = alone.get(p)!;
    const split = got.get(p)!.findIndex((x, i) => x !== a.tokens[i]);
    if (split < 0) continue;
    flips++;
    console.log(`order ${v}: ${JSON.stringify(p)} flips at token ${split}, alone margin ${a.margin[split]}`);
  }
}
console.log(`${flips} of ${orders * prompts.length} batched completions differ from alone, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
await engine.close();
