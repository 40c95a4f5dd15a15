import { ARGMAX_WASM } from './argmax-wasm.ts';
import { argmax } from './sampling.ts';

/** Where the kernel expects the row in its memory (ROW in kernels/argmax.ts). */
const ROW = 65536;
const PAGE = 65536;

interface Kernel {
  memory: WebAssembly.Memory;
  argmax(n: number): number;
}

/** The compiled kernel; null where WebAssembly (with SIMD) is not available. */
let kernel: Kernel | null | undefined;
let view: Float32Array | null = null;

function load(): Kernel | null {
  try {
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(ARGMAX_WASM)) return null;
    // A few hundred bytes: compiled synchronously on any thread, a browser's main thread included.
    return new WebAssembly.Instance(new WebAssembly.Module(ARGMAX_WASM), {}).exports as unknown as Kernel;
  } catch {
    return null;
  }
}

/** Which implementation {@link greedyToken} uses here (both give the same index). */
export function argmaxKernel(): 'wasm-simd' | 'js' {
  kernel ??= load();
  return kernel ? 'wasm-simd' : 'js';
}

/**
 * `argmax` (src/decode/sampling.ts) on the WebAssembly SIMD kernel where there is one: a copy of
 * the row into the kernel's memory, then four lanes at a time (V8 runs the plain loop one value
 * at a time). The greedy step of every local runner takes its token here when no summary gave it.
 */
export function greedyToken(row: Float32Array): number {
  kernel ??= load();
  if (!kernel) return argmax(row);
  const memory = kernel.memory;
  const need = ROW + row.length * 4;
  if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
  if (!view || view.buffer !== memory.buffer || view.length < row.length) view = new Float32Array(memory.buffer, ROW, (memory.buffer.byteLength - ROW) / 4);
  view.set(row);
  return kernel.argmax(row.length);
}
