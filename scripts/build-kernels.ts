// npm run build:kernels [-- --check]
// Compiles kernels/lse.ts (AssemblyScript, WebAssembly SIMD) and writes its bytes into
// src/decode/lse-wasm.ts, so the decode core loads the kernel with no file, fetch or build step at
// run time, in Node and in the page alike. --check compiles and compares instead of writing
// (exit 1 when the committed bytes are stale).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'src/decode/lse-wasm.ts');

/** The kernel's bytes, compiled now from kernels/lse.ts. */
export function compileKernel(): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'detbench-kernel-'));
  try {
    const wasm = path.join(dir, 'lse.wasm');
    const asc = path.join(ROOT, 'node_modules/assemblyscript/bin/asc.js');
    execFileSync(process.execPath, [asc, path.join(ROOT, 'kernels/lse.ts'), '-O3', '--runtime', 'stub', '--enable', 'simd', '--noAssert', '--outFile', wasm], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(wasm));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The TypeScript module that carries them. */
export function kernelModule(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 32) lines.push(`  ${Array.from(bytes.subarray(i, i + 32)).join(', ')},`);
  return `// Written by \`npm run build:kernels\` from kernels/lse.ts (AssemblyScript): do not edit.\n/** The summary's log-sum-exp and the sampler's weights, WebAssembly with SIMD (${bytes.length} bytes). */\nexport const LSE_WASM = new Uint8Array([\n${lines.join('\n')}\n]);\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const text = kernelModule(compileKernel());
  if (process.argv.includes('--check')) {
    const same = readFileSync(OUT, 'utf8') === text;
    console.log(same ? `${OUT} is up to date` : `${OUT} is stale: run npm run build:kernels`);
    process.exitCode = same ? 0 : 1;
  } else writeFileSync(OUT, text);
}
