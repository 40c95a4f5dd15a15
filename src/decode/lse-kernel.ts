import { dexpSum, dexpWeights } from './dexp.ts';
import { LSE_WASM } from './lse-wasm.ts';

/** Where the kernel expects the row in its memory (ROW in kernels/lse.ts). */
const ROW = 65536;
const PAGE = 65536;

interface Kernel {
  memory: WebAssembly.Memory;
  dexpSum4(n: number, m: number): number;
  dexpWeights(n: number, scale: number, m: number, out: number): number;
}

/** The compiled kernel; null where WebAssembly (with SIMD) is not available. */
let kernel: Kernel | null | undefined;
let view: Float32Array | null = null;

function load(): Kernel | null {
  try {
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(LSE_WASM)) return null;
    // 3 KB: small enough to compile synchronously on any thread, a browser's main thread included.
    return new WebAssembly.Instance(new WebAssembly.Module(LSE_WASM), {}).exports as unknown as Kernel;
  } catch {
    return null;
  }
}

/** Which implementation {@link sumDexp} uses here (both give the same bits). */
export function lseKernel(): 'wasm-simd' | 'js' {
  kernel ??= load();
  return kernel ? 'wasm-simd' : 'js';
}

/**
 * dexpSum (src/decode/dexp.ts) of a row without +Infinity, on the WebAssembly SIMD kernel where
 * there is one: one copy of the row into the kernel's memory, then two f64x2 lanes per pass. The
 * same IEEE operations in the same order as the TypeScript, so the same bits (tested).
 */
export function sumDexp(row: Float32Array, m: number): number {
  kernel ??= load();
  if (!kernel) return dexpSum(row, m);
  copyIn(kernel, row, ROW + row.length * 4);
  return kernel.dexpSum4(row.length, m);
}

/**
 * dexpWeights (src/decode/dexp.ts): w[i] = dexp(row[i] * scale - m), 0 where not finite, and their
 * sum in id order, on the kernel where there is one. `w` is only valid until the next call here
 * (it may lie in the kernel's memory); `fallback` receives the weights where there is no kernel.
 */
export function weighRow(row: Float32Array, scale: number, m: number, fallback: Float64Array): { w: Float64Array; total: number } {
  kernel ??= load();
  if (!kernel) return { w: fallback, total: dexpWeights(row, scale, m, fallback) };
  const out = ROW + Math.ceil((row.length * 4) / 8) * 8;
  copyIn(kernel, row, out + row.length * 8);
  const total = kernel.dexpWeights(row.length, scale, m, out);
  return { w: new Float64Array(kernel.memory.buffer, out, row.length), total };
}

/** Grows the kernel's memory to `need` bytes and copies the row to ROW. */
function copyIn(k: Kernel, row: Float32Array, need: number): void {
  const memory = k.memory;
  if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
  if (!view || view.buffer !== memory.buffer || view.length < row.length) view = new Float32Array(memory.buffer, ROW, (memory.buffer.byteLength - ROW) / 4);
  view.set(row);
}
