/**
 * Aggregates per-step divergences the way llama.cpp's `llama-perplexity --kl-divergence` prints
 * them (tools/perplexity/perplexity.cpp): mean ± standard error, the same percentiles (linear
 * interpolation between order statistics at fraction · (n − 1)), RMS Δp with its uncertainty and
 * "same top p" with its binomial standard error.
 */
import type { StepDivergence } from './divergence.ts';
import { type Rate, rateOf } from './interval.ts';

/** Mean and its standard error. */
export interface MeanSe {
  mean: number | null;
  /**
   * sqrt((Σx²/n − mean²) / (n − 1)); null with 10 steps or fewer, where llama.cpp prints 0 (too few
   * steps to say anything about the spread).
   */
  se: number | null;
}

/** The KL percentiles llama.cpp prints, in its order. */
export const KL_PERCENTILES = [
  ['max', 1],
  ['p99.9', 0.999],
  ['p99', 0.99],
  ['p95', 0.95],
  ['p90', 0.9],
  ['median', 0.5],
  ['p10', 0.1],
  ['p5', 0.05],
  ['p1', 0.01],
  ['p0.1', 0.001],
  ['min', 0],
] as const;

/** The Δp percentiles llama.cpp prints (the KL list plus the quartiles). */
export const DP_PERCENTILES = [
  ['max', 1],
  ['p99.9', 0.999],
  ['p99', 0.99],
  ['p95', 0.95],
  ['p90', 0.9],
  ['p75', 0.75],
  ['median', 0.5],
  ['p25', 0.25],
  ['p10', 0.1],
  ['p5', 0.05],
  ['p1', 0.01],
  ['p0.1', 0.001],
  ['min', 0],
] as const;

/** Named percentiles; `median` is the middle value (or the mean of the two middle ones). */
export type Percentiles = Record<string, number>;

/** How the per-step values were obtained. */
export type DivergenceBasis = 'full' | 'top-k' | 'mixed';

/** What a set of teacher-forced steps shows, llama.cpp's statistics. */
export interface DivergenceSummary {
  basis: DivergenceBasis;
  /** Steps that had a KL value (full or bound). */
  steps: number;
  kl: MeanSe & { percentiles: Percentiles | null };
  dp: MeanSe & {
    steps: number;
    rms: number | null;
    /** 0.5 / rms · se(Δp²), as llama.cpp derives it. */
    rmsSe: number | null;
    percentiles: Percentiles | null;
  };
  /** Same top-1 token: k of n steps, with sqrt(p(1 − p)/(n − 1)) as llama.cpp and a Wilson interval. */
  sameTop: Rate & { se: number | null };
}

/** llama.cpp's `mean_and_uncertainty`, with null instead of 0 where it has too few values. */
export function meanAndSe(sum: number, sum2: number, n: number): MeanSe {
  if (n < 1) return { mean: null, se: null };
  const mean = sum / n;
  if (n <= 10) return { mean, se: null };
  const v = sum2 / n - mean * mean;
  return { mean, se: v > 0 ? Math.sqrt(v / (n - 1)) : 0 };
}

/** Linear-interpolation percentile of sorted values, as llama.cpp computes it. */
export function percentileOf(sorted: ArrayLike<number>, fraction: number): number {
  const n = sorted.length;
  if (fraction <= 0) return sorted[0]!;
  if (fraction >= 1) return sorted[n - 1]!;
  const pos = fraction * (n - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return (1 - f) * sorted[i]! + f * sorted[Math.min(i + 1, n - 1)]!;
}

function percentiles(values: Float64Array, list: readonly (readonly [string, number])[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = values.slice().sort();
  const n = sorted.length;
  const out: Percentiles = {};
  for (const [name, f] of list) {
    out[name] = name === 'median' ? (n % 2 ? sorted[n >> 1]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2) : percentileOf(sorted, f);
  }
  return out;
}

/** A growable float64 column (a study can have millions of steps; boxed arrays would be 4× the memory). */
class Column {
  data = new Float64Array(256);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** Collects steps one at a time and summarises them. */
export class DivergenceAccumulator {
  private readonly kl = new Column();
  private readonly dp = new Column();
  private klSum = 0;
  private klSum2 = 0;
  private dpSum = 0;
  private dpSum2 = 0;
  private dpSum4 = 0;
  private same = 0;
  private topSteps = 0;
  private readonly bases = new Set<'full' | 'top-k'>();

  /** Adds one step; `basis` says where its KL came from. */
  add(d: StepDivergence, basis: 'full' | 'top-k'): void {
    if (d.kl !== null && Number.isFinite(d.kl)) {
      this.kl.push(d.kl);
      this.klSum += d.kl;
      this.klSum2 += d.kl * d.kl;
      this.bases.add(basis);
    }
    if (d.dp !== null) {
      this.dp.push(d.dp);
      const d2 = d.dp * d.dp;
      this.dpSum += d.dp;
      this.dpSum2 += d2;
      this.dpSum4 += d2 * d2;
    }
    if (d.sameTop !== null) {
      this.topSteps++;
      if (d.sameTop) this.same++;
    }
  }

  summary(): DivergenceSummary {
    const n = this.kl.length;
    const m = this.dp.length;
    const mse = meanAndSe(this.dpSum2, this.dpSum4, m);
    const rms = mse.mean === null ? null : Math.sqrt(mse.mean);
    const rmsSe = rms === null || mse.se === null ? null : rms > 0 ? (0.5 / rms) * mse.se : 0;
    const top = rateOf(this.same, this.topSteps);
    const p = top.rate;
    return {
      basis: this.bases.size === 2 ? 'mixed' : this.bases.has('full') ? 'full' : 'top-k',
      steps: n,
      kl: { ...meanAndSe(this.klSum, this.klSum2, n), percentiles: percentiles(this.kl.values(), KL_PERCENTILES) },
      dp: { ...meanAndSe(this.dpSum, this.dpSum2, m), steps: m, rms, rmsSe, percentiles: percentiles(this.dp.values(), DP_PERCENTILES) },
      sameTop: { ...top, se: p !== null && this.topSteps > 1 ? Math.sqrt((p * (1 - p)) / (this.topSteps - 1)) : null },
    };
  }
}
