import { logSumExp } from './logits.ts';

/**
 * Full-distribution capture: each step's whole logits row, so a teacher-forced comparison can
 * compute KL divergence exactly rather than bound it from the recorded top-k. Two encodings:
 *
 * - `f32`: the row's float32 logits as the model returned them (4 bytes per token). Lossless: the
 *   reader recomputes the row's hash and checks it against the record's, and KL is exact.
 * - `u16`: log-probabilities quantised to one uint16 per token (2 bytes per token), after llama.cpp's
 *   `--kl-divergence-base` file, with a fixed range and step so that a row needs only its best
 *   log-probability besides the codes. Code c of token i stands for log p_i = top − RANGE + c · STEP;
 *   code 0 means "at or below top − RANGE" (p_i ≤ e^-24 · p_top), and that mass is dropped from the
 *   reference side of a KL sum, as llama.cpp drops log-probabilities below −16. Half the size, but
 *   the rounding (±STEP/2 per token) makes a KL estimate err by about STEP · sqrt(2 · KL): fine for
 *   fp16-against-fp32 divergences (KL ~1e-3), too coarse for bitwise-near rows (KL ≪ 1e-6).
 */

/** Nats below the step's best log-probability that `u16` codes cover. */
export const CAPTURE_RANGE = 24;
/** Nats per `u16` code: 24 / 65535 ≈ 3.66e-4. */
export const CAPTURE_STEP = CAPTURE_RANGE / 65535;

/** How captured rows are stored. */
export type CaptureEncoding = 'f32' | 'u16';

/** Every captured step of one decoded sequence. */
export type CapturedRows =
  | { encoding: 'f32'; vocab: number; steps: number; data: Float32Array }
  | {
      encoding: 'u16';
      vocab: number;
      steps: number;
      /** Per step: the row's best log-probability (float64). */
      top: number[];
      /** Per step, `vocab` codes, steps one after another. */
      data: Uint16Array;
    };

/** Quantises one logits row into `out` (`u16`) and returns the row's best log-probability. */
export function encodeRowU16(row: Float32Array, out: Uint16Array): number {
  // The very log-sum-exp of the recorded summaries (dexp/dlog), so the captured top log-probability equals the recorded one.
  const lse = logSumExp(row);
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  const top = max - lse;
  const floor = top - CAPTURE_RANGE;
  const inv = 1 / CAPTURE_STEP;
  for (let i = 0; i < row.length; i++) {
    const lp = row[i]! - lse;
    // NaN and -Infinity fail the comparison and get code 0 as well.
    out[i] = lp > floor ? Math.min(65535, Math.round((lp - floor) * inv)) : 0;
  }
  return top;
}

/**
 * Decodes step `step` into log-probabilities (float64, normalised for `f32`). Returns the floor at
 * or below which reference mass is unresolved (−Infinity for `f32`, where nothing is).
 */
export function decodeRow(rows: CapturedRows, step: number, out: Float64Array): number {
  const v = rows.vocab;
  if (rows.encoding === 'f32') {
    const row = rows.data.subarray(step * v, (step + 1) * v);
    const lse = logSumExp(row);
    for (let i = 0; i < v; i++) out[i] = row[i]! - lse;
    return -Infinity;
  }
  const floor = rows.top[step]! - CAPTURE_RANGE;
  const codes = rows.data.subarray(step * v, (step + 1) * v);
  for (let i = 0; i < v; i++) out[i] = floor + codes[i]! * CAPTURE_STEP;
  return floor;
}

/** Collects a sequence's rows step by step (the decode loop's side of capture). */
export class RowCapture {
  private readonly parts: (Float32Array | Uint16Array)[] = [];
  private readonly top: number[] = [];
  constructor(
    readonly encoding: CaptureEncoding,
    readonly vocab: number,
  ) {}

  push(row: Float32Array): void {
    if (this.encoding === 'f32') {
      this.parts.push(row.slice());
      return;
    }
    const codes = new Uint16Array(row.length);
    this.top.push(encodeRowU16(row, codes));
    this.parts.push(codes);
  }

  finish(): CapturedRows {
    const steps = this.parts.length;
    if (this.encoding === 'f32') {
      const data = new Float32Array(steps * this.vocab);
      for (const [i, p] of this.parts.entries()) data.set(p, i * this.vocab);
      return { encoding: 'f32', vocab: this.vocab, steps, data };
    }
    const data = new Uint16Array(steps * this.vocab);
    for (const [i, p] of this.parts.entries()) data.set(p, i * this.vocab);
    return { encoding: 'u16', vocab: this.vocab, steps, top: this.top, data };
  }
}
