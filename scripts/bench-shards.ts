/**
 * Shard benchmark: synthetic results of a sharded study (`--steps` decode steps, default 1,000,000,
 * in `--shards` files, default 8), merged with `detbench merge` and reported from the merged file,
 * each phase in its own process so that its peak memory is its own. Prints time, peak RSS and
 * HTML size against the goals (merge ≤ 60 s, report ≤ 60 s and ≤ 10 MB, memory < 2 GB).
 *
 *   node --import tsx scripts/bench-shards.ts [--steps 1000000] [--shards 8] [--dir out/bench-shards]
 */
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name: string, d: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : d;
};
const dir = arg('--dir', 'out/bench-shards');
const phase = arg('--phase', '');

if (phase) {
  // One phase, in a child process: prints its own time and peak memory as JSON.
  const t0 = performance.now();
  let bytes = 0;
  if (phase === 'merge') {
    const { mergeShards } = await import('../src/results/merge.ts');
    const files = JSON.parse(arg('--files', '[]')) as string[];
    bytes = (await mergeShards(files, join(dir, 'merged.jsonl'))).bytes;
  } else {
    const { generateReport } = await import('../reports/generate.ts');
    bytes = (await generateReport([join(dir, 'merged.jsonl')], join(dir, 'report'), { title: 'detbench shard benchmark' })).bytes;
  }
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024, bytes }));
} else {
  const steps = Number(arg('--steps', '1000000'));
  const shards = Number(arg('--shards', '8'));
  const cpu = cpus();
  console.log(`machine: ${cpu[0]?.model.trim() ?? '?'} · ${cpu.length} cores · ${(totalmem() / 2 ** 30).toFixed(0)} GiB · node ${process.version} · load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  rmSync(dir, { recursive: true, force: true });
  const { writeSyntheticShards } = await import('./make-synthetic-results.ts');
  const t0 = performance.now();
  const out = writeSyntheticShards(join(dir, 'shards'), shards, { targetSteps: steps });
  console.log(`shards: ${out.steps} steps in ${shards} files, ${(out.bytes / 1e6).toFixed(0)} MB of JSONL, written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const self = fileURLToPath(import.meta.url);
  const run = (p: string, extra: string[] = []) =>
    JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', self, '--phase', p, '--dir', dir, ...extra], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim().split('\n').at(-1)!) as { seconds: number; maxRssMiB: number; bytes: number };
  const ok = (good: boolean) => (good ? 'OK' : 'OVER');
  const m = run('merge', ['--files', JSON.stringify(out.files)]);
  console.log(`merge:  ${m.seconds.toFixed(1)} s · peak RSS ${m.maxRssMiB.toFixed(0)} MiB · ${(statSync(join(dir, 'merged.jsonl')).size / 1e6).toFixed(0)} MB · goal 60 s ${ok(m.seconds <= 60)}, < 2 GB ${ok(m.maxRssMiB < 2048)}`);
  const r = run('report');
  console.log(`report: ${r.seconds.toFixed(1)} s · peak RSS ${r.maxRssMiB.toFixed(0)} MiB · ${(r.bytes / 1e6).toFixed(2)} MB of HTML · goal 60 s ${ok(r.seconds <= 60)}, 10 MB ${ok(r.bytes <= 10e6)}, < 2 GB ${ok(r.maxRssMiB < 2048)}`);
}
