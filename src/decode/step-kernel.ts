import { DEXP_MIN } from './dexp.ts';
import { STEP_WASM } from './step-wasm.ts';

const PAGE = 65536;
/** The longest top list the kernel keeps (TOP_MAX in kernels/step.ts). */
export const KERNEL_TOP_MAX = 1024;

interface Exports {
  memory: WebAssembly.Memory;
  /** Addresses in its memory: the row, the top list's values and ids, the hash lanes. */
  ROW: WebAssembly.Global;
  TOP_VALS: WebAssembly.Global;
  TOP_IDS: WebAssembly.Global;
  HASH: WebAssembly.Global;
  LEAST: WebAssembly.Global;
  TOP_MAX: WebAssembly.Global;
  summarize(n: number, kk: number): number;
  sumHash(n: number, m: number): number;
  hashOnly(n: number): void;
  leaders(n: number, k: number): number;
  weightSum(n: number, scale: number, m: number, out: number, keep: number, dense: number): number;
}

/**
 * The per-step WebAssembly SIMD kernel (kernels/step.ts), over one row that {@link StepKernel.put}
 * copied into its memory: every other call works on that row. The results lie in the kernel's
 * memory and stay valid until the next call. Each pass gives the bits of its TypeScript reference
 * (tested): the summary's in src/decode/logits.ts, the sampler's in src/decode/sampling-order.ts
 * and src/decode/dexp.ts.
 */
export class StepKernel {
  private rowView = new Float32Array(0);
  private n = 0;
  private topVals = new Float64Array(0);
  private topIds = new Int32Array(0);
  private lanes = new Int32Array(0);
  private least = new Float32Array(0);
  /** Set by leaders: every value finite, and the least one (for the weights' dense case). */
  private allFinite = false;
  private readonly row: number;

  constructor(private readonly x: Exports) {
    if (x.TOP_MAX.value !== KERNEL_TOP_MAX)
      throw new Error(`kernels/step.ts keeps ${x.TOP_MAX.value} top entries, src/decode/step-kernel.ts expects ${KERNEL_TOP_MAX}`);
    this.row = x.ROW.value as number;
    this.views();
  }

  /** Copies `row` into the kernel (the one copy a step makes), growing its memory if need be. */
  put(row: Float32Array): void {
    this.allFinite = false;
    // Room for the row and, after it, one double per logit (the running sums).
    const need = this.row + row.length * 4 + 8 + row.length * 8;
    const memory = this.x.memory;
    if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
    if (this.rowView.buffer !== memory.buffer || this.rowView.length < row.length) this.views();
    this.rowView.set(row);
    this.n = row.length;
  }

  /**
   * The summary's passes (summarizeRow): the top `kk` (2..KERNEL_TOP_MAX) into {@link top}, the
   * hash lanes into {@link hash}; returns the four-lane dexpSum of the row around its largest
   * value, NaN where that value is not finite.
   */
  summarize(kk: number): number {
    return this.x.summarize(this.n, kk);
  }

  /** dexpSum(row, m) (four lanes) for a row without +Infinity; the hash lanes too. */
  sumDexp(m: number): number {
    return this.x.sumHash(this.n, m);
  }

  /** The hash lanes alone into {@link hash} (hashFloat32 without the rest of the summary). */
  hashLanes(): Int32Array {
    this.x.hashOnly(this.n);
    return this.hash();
  }

  /** The sampler's leaders: the first `k` (1..KERNEL_TOP_MAX) finite values in candidate order into {@link top}; returns how many are finite. */
  leaders(k: number): number {
    const finite = this.x.leaders(this.n, k);
    this.allFinite = finite === this.n;
    return finite;
  }

  /** The sum in id order of w[i] = dexp(row[i] * scale - m), 0 where not finite (dexpWeights' sum). */
  weightTotal(scale: number, m: number): number {
    return this.x.weightSum(this.n, scale, m, 0, 0, this.dense(scale, m));
  }

  /** The same sum, and every weight (the bits of dexpWeights). */
  weights(scale: number, m: number): { w: Float64Array; total: number } {
    return this.sums(scale, m, 1);
  }

  /** The same sum, and the running sum after each id (prefix[i] = w[0] + ... + w[i], in that order). */
  weightPrefix(scale: number, m: number): { prefix: Float64Array; total: number } {
    const { w, total } = this.sums(scale, m, 2);
    return { prefix: w, total };
  }

  private sums(scale: number, m: number, keep: 1 | 2): { w: Float64Array; total: number } {
    const out = this.row + Math.ceil((this.n * 4) / 8) * 8;
    const total = this.x.weightSum(this.n, scale, m, out, keep, this.dense(scale, m));
    return { w: new Float64Array(this.x.memory.buffer, out, this.n), total };
  }

  /**
   * Whether the row that {@link leaders} last saw is dense for these weights: every value finite
   * and even the least one's x = v * scale - m within dexp's range (x is monotone in v), so the
   * kernel may skip the per-lane tests. 1 or 0.
   */
  private dense(scale: number, m: number): number {
    if (this.least.buffer !== this.x.memory.buffer) this.views();
    return this.allFinite && this.least[0]! * scale - m >= DEXP_MIN ? 1 : 0;
  }

  /** The top list's values and ids (the first entries are the list). */
  top(): { vals: Float64Array; ids: Int32Array } {
    if (this.topVals.buffer !== this.x.memory.buffer) this.views();
    return { vals: this.topVals, ids: this.topIds };
  }

  /** The hash's two 32-bit lanes (before the final avalanche). */
  hash(): Int32Array {
    if (this.lanes.buffer !== this.x.memory.buffer) this.views();
    return this.lanes;
  }

  private views(): void {
    const buffer = this.x.memory.buffer;
    this.rowView = new Float32Array(buffer, this.row, (buffer.byteLength - this.row) / 4);
    this.topVals = new Float64Array(buffer, this.x.TOP_VALS.value as number, KERNEL_TOP_MAX);
    this.topIds = new Int32Array(buffer, this.x.TOP_IDS.value as number, KERNEL_TOP_MAX);
    this.lanes = new Int32Array(buffer, this.x.HASH.value as number, 2);
    this.least = new Float32Array(buffer, this.x.LEAST.value as number, 1);
  }
}

/** The compiled kernel; null where WebAssembly (with SIMD) is not available. */
let kernel: StepKernel | null | undefined;
let off = false;

/**
 * Turns the kernel off (true) or on again in this thread, so that the TypeScript references run:
 * for tests and benchmarks that compare the two.
 */
export function useTypeScriptReference(on: boolean): void {
  off = on;
}

/**
 * The kernel of this thread (one per thread: a decode runs one step at a time), or null where
 * WebAssembly SIMD is unavailable: then the TypeScript references run, with the same results.
 */
export function stepKernel(): StepKernel | null {
  if (off) return null;
  if (kernel === undefined) {
    try {
      // 13 KB: small enough to compile synchronously on any thread, a browser's main thread included.
      kernel =
        typeof WebAssembly === 'object' && WebAssembly.validate(STEP_WASM)
          ? new StepKernel(new WebAssembly.Instance(new WebAssembly.Module(STEP_WASM), {}).exports as unknown as Exports)
          : null;
    } catch {
      kernel = null;
    }
  }
  return kernel;
}

/** Which implementation the summary and the sampler use here (both give the same bits). */
export function stepKernelKind(): 'wasm-simd' | 'js' {
  return stepKernel() ? 'wasm-simd' : 'js';
}
