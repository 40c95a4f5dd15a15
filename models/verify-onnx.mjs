// Checks an exported detbench-tiny directory with onnxruntime-node and @huggingface/tokenizers
// (both are in detbench's node_modules). Run from the repository root:
//
//   node models/verify-onnx.mjs models/detbench-tiny [--write]
//
// 1. tokenizer.json loads in @huggingface/tokenizers, encodes the prompts to the ids the
//    training script used, and decodes them back.
// 2. For onnx/model.onnx (fp32) and onnx/model_fp16.onnx: greedy decoding with the KV
//    cache (prompt first, then one token a step) gives the same ids as PyTorch
//    (eval-reference.json, written by models/train.py).
// 3. Left padding: the three prompts as one left-padded batch (attention_mask 0 on the
//    pads, position_ids = cumsum(mask) - 1, pads at 1) give the same last-token logits per
//    row as each prompt alone, and the batched greedy loop gives the same ids.
// --write stores the report as onnx-check.json in the model directory.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const ort = require('onnxruntime-node');
const { Tokenizer } = await import(path.join(process.cwd(), 'node_modules/@huggingface/tokenizers/dist/tokenizers.mjs'));

const dir = process.argv[2] || 'models/detbench-tiny';
const write = process.argv.includes('--write');
const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
const ref = JSON.parse(fs.readFileSync(path.join(dir, 'eval-reference.json'), 'utf8'));
const tok = new Tokenizer(
  JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
  JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
);
const L = cfg.n_layer,
  H = cfg.n_head,
  D = cfg.n_embd / cfg.n_head,
  V = cfg.vocab_size;
const report = { tokenizer: [], models: {} };
let ok = true;

for (const p of ref.prompts) {
  const ids = Array.from(tok.encode(p.prompt, { add_special_tokens: false }).ids);
  const same = JSON.stringify(ids) === JSON.stringify(p.prompt_ids);
  const dec = tok.decode(p.prompt_ids.concat(p.greedy_ids), { skip_special_tokens: false });
  report.tokenizer.push({ prompt: p.prompt, ids_match: same, decoded: dec });
  if (!same) {
    ok = false;
    console.log('tokenizer mismatch', p.prompt, ids, p.prompt_ids);
  }
}

function f16ToF32(h) {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
const toF32 = (t) => (t.type === 'float16' ? Float32Array.from(t.data, (x) => (typeof x === 'number' ? f16ToF32(x) : x)) : t.data);

async function step(sess, ftype, idsRows, maskRows, posRows, past) {
  const B = idsRows.length,
    S = idsRows[0].length;
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(idsRows.flat().map(BigInt)), [B, S]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(maskRows.flat().map(BigInt)), [B, maskRows[0].length]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(posRows.flat().map(BigInt)), [B, S]),
  };
  for (let i = 0; i < L; i++)
    for (const kv of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kv}`] = past
        ? past[`present.${i}.${kv}`]
        : new ort.Tensor(ftype, ftype === 'float16' ? new Uint16Array(0) : new Float32Array(0), [B, H, 0, D]);
    }
  const out = await sess.run(feeds);
  const logits = toF32(out.logits);
  const last = [];
  for (let b = 0; b < B; b++) last.push(logits.subarray((b * S + S - 1) * V, (b * S + S) * V));
  return { last, out };
}
const argmax = (a) => {
  let m = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[m]) m = i;
  return m;
};

for (const [file, ftype] of [
  ['model.onnx', 'float32'],
  ['model_fp16.onnx', 'float16'],
]) {
  const sess = await ort.InferenceSession.create(path.join(dir, 'onnx', file), { executionProviders: ['cpu'] });
  const r = { inputs: sess.inputNames.length, outputs: sess.outputNames.length, greedy: [], padded: {} };
  const alone = [];
  for (const p of ref.prompts) {
    const n = p.prompt_ids.length;
    let { last, out } = await step(sess, ftype, [p.prompt_ids], [Array(n).fill(1)], [[...Array(n).keys()]], null);
    alone.push(Float32Array.from(last[0]));
    const gen = [];
    let mask = Array(n).fill(1);
    for (let k = 0; k < p.greedy_ids.length; k++) {
      const nxt = argmax(last[0]);
      gen.push(nxt);
      if (nxt === cfg.eos_token_id) break;
      mask = mask.concat([1]);
      ({ last, out } = await step(sess, ftype, [[nxt]], [mask], [[mask.length - 1]], out));
    }
    let agree = 0;
    while (agree < gen.length && gen[agree] === p.greedy_ids[agree]) agree++;
    r.greedy.push({
      prompt: p.prompt,
      equal_to_pytorch: agree === p.greedy_ids.length && gen.length === p.greedy_ids.length,
      first_divergence: agree === gen.length ? null : agree,
      text: tok.decode(gen, { skip_special_tokens: false }),
    });
  }
  // left-padded batch
  const maxN = Math.max(...ref.prompts.map((p) => p.prompt_ids.length));
  const rows = ref.prompts.map((p) =>
    Array(maxN - p.prompt_ids.length)
      .fill(cfg.pad_token_id)
      .concat(p.prompt_ids),
  );
  let masks = ref.prompts.map((p) =>
    Array(maxN - p.prompt_ids.length)
      .fill(0)
      .concat(Array(p.prompt_ids.length).fill(1)),
  );
  const posOf = (m) => {
    let c = -1;
    return m.map((x) => {
      c += x;
      return x ? c : 1;
    });
  };
  let { last, out } = await step(sess, ftype, rows, masks, masks.map(posOf), null);
  let maxDiff = 0,
    argmaxSame = true;
  last.forEach((row, b) => {
    for (let i = 0; i < V; i++) maxDiff = Math.max(maxDiff, Math.abs(row[i] - alone[b][i]));
    if (argmax(row) !== argmax(alone[b])) argmaxSame = false;
  });
  const gens = ref.prompts.map(() => []);
  const steps = Math.max(...ref.prompts.map((p) => p.greedy_ids.length));
  for (let k = 0; k < steps; k++) {
    const nxt = last.map(argmax);
    for (const [b, t] of nxt.entries()) gens[b].push(t);
    masks = masks.map((m) => m.concat([1]));
    ({ last, out } = await step(
      sess,
      ftype,
      nxt.map((t) => [t]),
      masks,
      masks.map((m) => [posOf(m).at(-1)]),
      out,
    ));
  }
  const batchedEqual = ref.prompts.map((p, b) => JSON.stringify(gens[b].slice(0, p.greedy_ids.length)) === JSON.stringify(p.greedy_ids));
  r.padded = { max_abs_logit_diff_vs_alone: maxDiff, argmax_same: argmaxSame, batched_greedy_equal_to_pytorch: batchedEqual };
  report.models[file] = r;
  if (ftype === 'float32' && (!r.greedy.every((g) => g.equal_to_pytorch) || !argmaxSame || maxDiff > 1e-3 || !batchedEqual.every(Boolean))) ok = false;
  if (ftype === 'float16' && (!argmaxSame || maxDiff > 5e-2)) ok = false;
}
report.ok = ok;
console.log(JSON.stringify(report, null, 1));
if (write) fs.writeFileSync(path.join(dir, 'onnx-check.json'), `${JSON.stringify(report, null, 1)}\n`);
process.exit(ok ? 0 : 1);
