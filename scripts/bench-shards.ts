/**
 * Shard benchmark: synthetic results of a sharded study (`--steps` decode steps, default 1,000,000;
 * the goal is measured with `--steps 10000000`, about 5 GB of JSONL), in `--shards` files
 * (default 8), merged with `detbench merge` and reported from the merged file, each phase in its
 * own process so that its peak memory is its own. Prints time, peak RSS, HTML size and the load
 * average against the goals (merge ≤ 60 s, report ≤ 60 s and ≤ 10 MB, memory < 2 GB).
 *
 *   node --import tsx scripts/bench-shards.ts [--steps 1000000] [--shards 8] [--dir out/bench-shards] [--reuse] [--clean]
 *
 * --reuse keeps shards already written in --dir for the same steps and shard count; --clean
 * deletes --dir afterwards (10M steps take about 10 GB with the merged file).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name: string, d: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : d;
};
const dir = arg('--dir', 'out/bench-shards');
const phase = arg('--phase', '');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

if (phase) {
  // One phase, in a child process: prints its own time and peak memory as JSON.
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let bytes = 0;
  if (phase === 'merge') {
    const { mergeShards } = await import('../src/results/merge.ts');
    const files = JSON.parse(arg('--files', '[]')) as string[];
    bytes = (await mergeShards(files, join(dir, 'merged.jsonl'))).bytes;
  } else {
    const { generateReport } = await import('../reports/generate.ts');
    bytes = (
      await generateReport([join(dir, 'merged.jsonl')], join(dir, 'report'), {
        title: 'detbench shard benchmark',
        log: (m) => process.stderr.write(`  ${m}\n`),
      })
    ).bytes;
  }
  const cpu = process.cpuUsage(cpu0);
  console.log(
    JSON.stringify({
      seconds: (performance.now() - t0) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      bytes,
      load: loadavg()[0],
    }),
  );
} else {
  const steps = Number(arg('--steps', '1000000'));
  const shards = Number(arg('--shards', '8'));
  const cpu = cpus();
  console.log(
    `machine: ${cpu[0]?.model.trim() ?? '?'} · ${cpu.length} cores · ${(totalmem() / 2 ** 30).toFixed(0)} GiB · node ${process.version} · load ${load()}`,
  );
  const stamp = join(dir, 'shards', 'manifest.json');
  const manifest = existsSync(stamp)
    ? (JSON.parse(readFileSync(stamp, 'utf8')) as { steps: number; shards: number; out: { files: string[]; steps: number; bytes: number } })
    : null;
  let out: { files: string[]; steps: number; bytes: number };
  if (process.argv.includes('--reuse') && manifest?.steps === steps && manifest.shards === shards) {
    out = manifest.out;
    rmSync(join(dir, 'merged.jsonl'), { force: true });
    rmSync(join(dir, 'report'), { recursive: true, force: true });
    console.log(`shards: reusing ${out.steps} steps in ${shards} files, ${(out.bytes / 1e6).toFixed(0)} MB of JSONL`);
  } else {
    rmSync(dir, { recursive: true, force: true });
    const { writeSyntheticShards } = await import('./make-synthetic-results.ts');
    const t0 = performance.now();
    out = writeSyntheticShards(join(dir, 'shards'), shards, { targetSteps: steps });
    writeFileSync(stamp, JSON.stringify({ steps, shards, out }));
    console.log(
      `shards: ${out.steps} steps in ${shards} files, ${(out.bytes / 1e6).toFixed(0)} MB of JSONL, written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const self = fileURLToPath(import.meta.url);
  const run = (p: string, extra: string[] = []) =>
    JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', self, '--phase', p, '--dir', dir, ...extra], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
        stdio: ['ignore', 'pipe', 'inherit'],
      })
        .trim()
        .split('\n')
        .at(-1)!,
    ) as {
      seconds: number;
      cpuSeconds: number;
      maxRssMiB: number;
      bytes: number;
      load: number;
    };
  const ok = (good: boolean) => (good ? 'OK' : 'OVER');
  const m = run('merge', ['--files', JSON.stringify(out.files)]);
  console.log(
    `merge:  ${m.seconds.toFixed(1)} s (${m.cpuSeconds.toFixed(1)} s CPU) · peak RSS ${m.maxRssMiB.toFixed(0)} MiB · ${(statSync(join(dir, 'merged.jsonl')).size / 1e6).toFixed(0)} MB · load ${m.load.toFixed(1)} · goal 60 s ${ok(m.seconds <= 60)}, < 2 GB ${ok(m.maxRssMiB < 2048)}`,
  );
  const r = run('report');
  console.log(
    `report: ${r.seconds.toFixed(1)} s (${r.cpuSeconds.toFixed(1)} s CPU) · peak RSS ${r.maxRssMiB.toFixed(0)} MiB · ${(r.bytes / 1e6).toFixed(2)} MB of HTML · load ${r.load.toFixed(1)} · goal 60 s ${ok(r.seconds <= 60)}, 10 MB ${ok(r.bytes <= 10e6)}, < 2 GB ${ok(r.maxRssMiB < 2048)}`,
  );
  if (process.argv.includes('--clean')) rmSync(dir, { recursive: true, force: true });
  process.exitCode = m.seconds <= 60 && r.seconds <= 60 && r.bytes <= 10e6 && m.maxRssMiB < 2048 && r.maxRssMiB < 2048 ? 0 : 1;
}
