// npm run build:kernels [-- --check]
// Compiles the kernels (AssemblyScript, WebAssembly SIMD): kernels/step.ts into src/decode/step-wasm.ts
// and kernels/argmax.ts into src/decode/argmax-wasm.ts, so the decode core loads them with no file,
// fetch or build step at run time, in Node and in the page alike. --check compiles and compares
// instead of writing (exit 1 when the committed bytes are stale).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A kernel: its source, its module, the constant that module exports, and what it computes. */
interface KernelSpec {
  source: string;
  out: string;
  name: string;
  what: string;
}
/** The per-step kernel (summary and sampler passes). */
export const STEP: KernelSpec = {
  source: 'kernels/step.ts',
  out: 'src/decode/step-wasm.ts',
  name: 'STEP_WASM',
  what: 'The per-step kernel (summary and sampler passes)',
};
/** The greedy argmax kernel. */
export const ARGMAX: KernelSpec = { source: 'kernels/argmax.ts', out: 'src/decode/argmax-wasm.ts', name: 'ARGMAX_WASM', what: "The greedy step's argmax" };

/** A kernel's bytes, compiled now from `source` (kernels/step.ts unless named). */
export function compileKernel(source = STEP.source): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'detbench-kernel-'));
  try {
    const wasm = path.join(dir, 'kernel.wasm');
    const asc = path.join(ROOT, 'node_modules/assemblyscript/bin/asc.js');
    execFileSync(process.execPath, [asc, path.join(ROOT, source), '-O3', '--runtime', 'stub', '--enable', 'simd', '--noAssert', '--outFile', wasm], {
      stdio: 'pipe',
    });
    return new Uint8Array(readFileSync(wasm));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The TypeScript module that carries a kernel's bytes (the per-step kernel unless named). */
export function kernelModule(bytes: Uint8Array, spec: KernelSpec = STEP): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 32) lines.push(`  ${Array.from(bytes.subarray(i, i + 32)).join(', ')},`);
  return `// Written by \`npm run build:kernels\` from ${spec.source} (AssemblyScript): do not edit.\n/** ${spec.what}, WebAssembly with SIMD (${bytes.length} bytes). */\nexport const ${spec.name} = new Uint8Array([\n${lines.join('\n')}\n]);\n`;
}

/** The TypeScript module that carries the argmax kernel's bytes. */
export function argmaxModule(bytes: Uint8Array): string {
  return kernelModule(bytes, ARGMAX);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const spec of [STEP, ARGMAX]) {
    const out = path.join(ROOT, spec.out);
    const text = kernelModule(compileKernel(spec.source), spec);
    if (process.argv.includes('--check')) {
      const same = readFileSync(out, 'utf8') === text;
      console.log(same ? `${out} is up to date` : `${out} is stale: run npm run build:kernels`);
      if (!same) process.exitCode = 1;
    } else writeFileSync(out, text);
  }
}
