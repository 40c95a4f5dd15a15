// Bundles the detbench CLI into one ES module for the GPU machine, which has no npm: everything but
// onnxruntime-node (native, shipped beside it) is inlined. The browser and remote runners and the
// report generator stay out (no Chromium or network there); asking for them fails at run time.
// usage: node scripts/gpu/bundle.mjs OUT_FILE

import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const out = process.argv[2];
if (!out) throw new Error('usage: node scripts/gpu/bundle.mjs OUT_FILE');
const root = fileURLToPath(new URL('../..', import.meta.url));
const leaveOut = /(^|\/)(runners\/browser|runners\/remote-api|reports)\//;

await build({
  stdin: {
    contents: "import { main } from './cli/main.ts';\nprocess.exitCode = await main(process.argv);\n",
    resolveDir: root,
    loader: 'ts',
    sourcefile: 'gpu-entry.ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: out,
  external: ['onnxruntime-node', 'puppeteer-core'],
  // CommonJS dependencies call require(); give the ES module one.
  banner: { js: "import { createRequire as __detbenchRequire } from 'node:module'; const require = __detbenchRequire(import.meta.url);" },
  plugins: [
    {
      name: 'leave-out',
      setup(b) {
        // A runner's manifest (its option schema) stays in: the runner list imports every one.
        b.onResolve({ filter: leaveOut }, (args) => (/manifest\.ts$/.test(args.path) ? undefined : { path: args.path, external: true }));
      },
    },
  ],
  logLevel: 'warning',
});
console.log(`bundled -> ${out}`);
