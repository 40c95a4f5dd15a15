import { Mt19937 } from '../../src/decode/mt19937.ts';
import { GraphBuilder } from './onnx-builder.ts';

/** Shape of the tiny GPT-2-style model. */
export interface TinyGraphSpec {
  layers: number;
  heads: number;
  kvHeads: number;
  embd: number;
  /** Rows of the (tied) embedding table: the logits' last dim. */
  vocab: number;
  positions: number;
  withPositionIds: boolean;
  seed: number;
}

const OPSET = 17;
/** Added to masked scores. Finite on purpose: -inf would turn fully masked (padding) rows into NaN. */
const MASKED = -1e9;
const BOOL = 9;
const B = 'batch_size';
const S = 'sequence_length';
const P = 'past_sequence_length';
const T = 'total_sequence_length';

/**
 * Builds a GPT-2 block stack (pre-LayerNorm attention with KV cache, Erf GELU MLP, final
 * LayerNorm, lm_head tied to the token embedding) with seeded random weights, as an ONNX model
 * in the transformers.js I/O layout. Weight scales are chosen so logits depend strongly on
 * context, which keeps cache and padding tests sensitive.
 */
export function buildTinyGraph(spec: TinyGraphSpec): Uint8Array {
  const { layers, heads: H, kvHeads: KV, embd: E, vocab: V } = spec;
  if (E % H !== 0) throw new Error(`embd ${E} is not a multiple of heads ${H}`);
  if (H % KV !== 0) throw new Error(`heads ${H} is not a multiple of kvHeads ${KV}`);
  const D = E / H;
  const rng = new Mt19937(spec.seed);
  // Uniform on [-std*sqrt(3), std*sqrt(3)): variance std^2.
  const rand = (n: number, std: number, mean = 0) => Float32Array.from({ length: n }, () => mean + (rng.random() * 2 - 1) * std * Math.sqrt(3));
  const g = new GraphBuilder();
  let w = 0;
  const weight = (dims: number[], std: number, mean = 0) =>
    g.f32(
      `w${w++}`,
      dims,
      rand(
        dims.reduce((a, b) => a * b, 1),
        std,
        mean,
      ),
    );

  // Inputs.
  const inputIds = g.input('input_ids', 'int64', [B, S]);
  const mask = g.input('attention_mask', 'int64', [B, T]);
  const positionIds = spec.withPositionIds ? g.input('position_ids', 'int64', [B, S]) : undefined;
  const past: string[][] = [];
  for (let i = 0; i < layers; i++) {
    past.push([g.input(`past_key_values.${i}.key`, 'float32', [B, KV, P, D]), g.input(`past_key_values.${i}.value`, 'float32', [B, KV, P, D])]);
  }

  // Lengths: S from input_ids, T from attention_mask, past = T - S.
  const s1 = g.op('Shape', [inputIds], { start: 1, end: 2 });
  const t1 = g.op('Shape', [mask], { start: 1, end: 2 });
  const p1 = g.op('Sub', [t1, s1]);
  const axis0 = g.i64([0]);
  const one = g.i64([1], []);
  const tScalar = g.op('Squeeze', [t1, axis0]);
  const pScalar = g.op('Squeeze', [p1, axis0]);

  // Query i sits at absolute position past+i and sees keys j <= past+i that the mask keeps.
  const qIdx = g.op('Unsqueeze', [g.op('Range', [pScalar, tScalar, one]), g.i64([1])]);
  const kIdx = g.op('Unsqueeze', [g.op('Range', [g.i64([0], []), tScalar, one]), g.i64([0])]);
  const causal = g.op('LessOrEqual', [kIdx, qIdx]);
  const keep = g.op('Unsqueeze', [g.op('Cast', [mask], { to: BOOL }), g.i64([1, 2])]);
  const allowed = g.op('And', [causal, keep]);
  const bias = g.op('Where', [allowed, g.scalar(0), g.scalar(MASKED)]);

  // Positions as HF derives them when not given: cumsum(mask) - 1 over the kept tokens.
  let positions = positionIds;
  if (!positions) {
    const cum = g.op('CumSum', [mask, g.i64([1], [])]);
    const full = g.op('Mul', [g.op('Sub', [cum, one]), mask]);
    positions = g.op('Slice', [full, p1, t1, g.i64([1])]);
  }

  const wte = weight([V, E], 0.3);
  const wpe = weight([spec.positions, E], 0.3);
  let h = g.op('Add', [g.op('Gather', [wte, inputIds], { axis: 0 }), g.op('Gather', [wpe, positions], { axis: 0 })]);

  const layerNorm = (x: string) => g.op('LayerNormalization', [x, weight([E], 0.1, 1), weight([E], 0.1)], { axis: -1, epsilon: { f: 1e-5 } });
  const linear = (x: string, fanIn: number, fanOut: number) =>
    g.op('Add', [g.op('MatMul', [x, weight([fanIn, fanOut], 1 / Math.sqrt(fanIn))]), weight([fanOut], 0.05)]);
  const splitHeads = (x: string, n: number) => g.op('Transpose', [g.op('Reshape', [x, g.i64([0, 0, n, D])])], { perm: [0, 2, 1, 3] });
  // Grouped-query attention: each kv head serves H/KV query heads.
  const repeatKv = (x: string) =>
    KV === H ? x : g.op('Reshape', [g.op('Tile', [g.op('Unsqueeze', [x, g.i64([2])]), g.i64([1, 1, H / KV, 1, 1])]), g.i64([0, H, -1, D])]);

  const presents: [string, string][] = [];
  for (let i = 0; i < layers; i++) {
    const x = layerNorm(h);
    const q = splitHeads(linear(x, E, E), H);
    const k = g.op('Concat', [past[i]![0]!, splitHeads(linear(x, E, KV * D), KV)], { axis: 2 });
    const v = g.op('Concat', [past[i]![1]!, splitHeads(linear(x, E, KV * D), KV)], { axis: 2 });
    presents.push([k, v]);
    const kT = g.op('Transpose', [repeatKv(k)], { perm: [0, 1, 3, 2] });
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, kT]), g.scalar(1 / Math.sqrt(D))]), bias]);
    const probs = g.op('Softmax', [scores], { axis: -1 });
    const ctx = g.op('Transpose', [g.op('MatMul', [probs, repeatKv(v)])], { perm: [0, 2, 1, 3] });
    h = g.op('Add', [h, linear(g.op('Reshape', [ctx, g.i64([0, 0, E])]), E, E)]);

    const m = linear(layerNorm(h), E, 4 * E);
    // GELU, exact form: 0.5 * m * (1 + erf(m / sqrt 2)).
    const erf = g.op('Erf', [g.op('Mul', [m, g.scalar(Math.SQRT1_2)])]);
    const gelu = g.op('Mul', [g.op('Mul', [m, g.scalar(0.5)]), g.op('Add', [erf, g.scalar(1)])]);
    h = g.op('Add', [h, linear(gelu, 4 * E, E)]);
  }

  const logits = g.op('MatMul', [layerNorm(h), g.op('Transpose', [wte], { perm: [1, 0] })]);
  g.output('logits', logits, 'float32', [B, S, V]);
  presents.forEach(([k, v], i) => {
    g.output(`present.${i}.key`, k, 'float32', [B, KV, T, D]);
    g.output(`present.${i}.value`, v, 'float32', [B, KV, T, D]);
  });
  return g.encode('tiny_gpt2', OPSET);
}
