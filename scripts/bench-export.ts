/**
 * Bytes per decode step: the JSONL against the Parquet and CSV exports of the same results.
 *
 *   node --import tsx scripts/bench-export.ts [results.jsonl...]
 *
 * With no file it first runs suites/default.yaml on its two node-cpu runners (the shipped model,
 * top-10 candidates, greedy and sampled, with teacher forcing) into out/bench-export/.
 */
import { statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { runSuite } from '../api/index.ts';
import { exportResults } from '../src/export/export.ts';
import { readResults } from '../src/results/read.ts';

const dir = 'out/bench-export';
let files = process.argv.slice(2);
if (files.length === 0) {
  const out = join(dir, `results-${Date.now()}.jsonl`);
  await runSuite({ suiteFile: 'suites/default.yaml', outFile: out, onlyRunners: ['cpu-1t', 'cpu-2t'] });
  files = [out];
}
const steps = files.flatMap((f) => readResults(f)).reduce((a, r) => a + (r.status === 'completed' ? r.tokens.length : 0), 0);
const jsonl = files.reduce((a, f) => a + statSync(f).size, 0);
console.log(`machine: ${cpus()[0]?.model.trim() ?? '?'} · ${cpus().length} cores · node ${process.version}`);
console.log(`steps: ${steps} decode steps in ${files.length} file(s)`);
console.log(`jsonl:   ${jsonl} bytes · ${(jsonl / steps).toFixed(0)} bytes per step`);
for (const format of ['parquet', 'csv'] as const) {
  const t0 = performance.now();
  const s = await exportResults(files, join(dir, `steps.${format}`), { format });
  console.log(
    `${format}: ${s.bytes} bytes · ${(s.bytes / steps).toFixed(0)} bytes per step · ${s.rows} rows · ${((performance.now() - t0) / 1000).toFixed(2)} s`,
  );
}
