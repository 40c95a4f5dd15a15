/**
 * Report benchmark: generates synthetic results totalling one million decode steps, runs
 * generateReport over them and prints the time and HTML size against the goals (10 s, 10 MB).
 *
 *   node --import tsx scripts/bench-report.ts [--steps 1000000] [--dir out/bench-report] [--reuse]
 *
 * --reuse keeps results already generated in --dir (same step target) instead of writing them again.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { generateReport } from '../reports/generate.ts';
import { writeSyntheticResults } from './make-synthetic-results.ts';

const GOAL_SECONDS = 10;
const GOAL_BYTES = 10 * 1e6;

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const target = Number(arg('--steps') ?? 1_000_000);
const dir = arg('--dir') ?? 'out/bench-report';
const stamp = join(dir, 'results', 'manifest.json');

const cpu = cpus();
console.log(
  `machine: ${cpu[0]?.model.trim() ?? '?'} · ${cpu.length} cores · ${(totalmem() / 2 ** 30).toFixed(0)} GiB · node ${process.version} · load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

let files: string[];
let steps: number;
const manifest = existsSync(stamp) ? (JSON.parse(readFileSync(stamp, 'utf8')) as { target: number; files: string[]; steps: number }) : null;
if (process.argv.includes('--reuse') && manifest?.target === target) {
  ({ files, steps } = manifest);
  console.log(`results: reusing ${files.length} file(s), ${steps} steps`);
} else {
  const t0 = performance.now();
  const out = writeSyntheticResults(join(dir, 'results'), { targetSteps: target });
  ({ files, steps } = out);
  writeFileSync(stamp, JSON.stringify({ target, files, steps }));
  console.log(`results: wrote ${steps} steps, ${(out.bytes / 1e6).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const inputMB = files.reduce((s, f) => s + statSync(f).size, 0) / 1e6;

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const { htmlPath, bytes } = await generateReport(files, join(dir, 'report'), {
  title: `detbench report benchmark (${steps} steps)`,
  log: (m) => console.log(`  ${m}`),
});
const seconds = (performance.now() - t0) / 1000;
const cpuUsed = process.cpuUsage(cpu0);
const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
const heapMB = process.memoryUsage().rss / 2 ** 20;

const ok = (good: boolean) => (good ? 'OK' : 'OVER');
console.log(`report: ${htmlPath}`);
console.log(`time:  ${seconds.toFixed(2)} s for ${steps} steps (${inputMB.toFixed(0)} MB of JSONL) · goal ${GOAL_SECONDS} s · ${ok(seconds <= GOAL_SECONDS)}`);
// On a shared machine wall time includes waiting for a core; CPU time shows what the work itself costs.
console.log(`cpu:   ${cpuSeconds.toFixed(2)} s of CPU (user+sys, all threads) · load ${loadavg()[0]!.toFixed(1)} on ${cpu.length} cores during the run`);
console.log(`size:  ${(bytes / 1e6).toFixed(2)} MB of HTML · goal ${GOAL_BYTES / 1e6} MB · ${ok(bytes <= GOAL_BYTES)}`);
console.log(`rss:   ${heapMB.toFixed(0)} MiB at the end`);
process.exitCode = seconds <= GOAL_SECONDS && bytes <= GOAL_BYTES ? 0 : 1;
