/**
 * `--jobs` benchmark: a suite of one-thread node-cpu runners on the shipped model (8 prompts × 2
 * settings × 20 repetitions × 128 new tokens), run whole at --jobs 1 and at --jobs 2, alternating,
 * several rounds (about 2 minutes on a quiet 2-core machine); prints the median wall times, their
 * ratio against the goal (--jobs 2 in at most 0.55 of the time on 2 cores), the load average and
 * whether the records are identical apart from timings.
 *
 *   node --import tsx scripts/bench-jobs.ts [--rounds 3] [--jobs 2]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { runSuite } from '../api/index.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';
import { median } from './bench-stats.ts';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : d;
};
const rounds = Number(arg('--rounds', '3'));
const jobs = Number(arg('--jobs', '2'));
const GOAL = 0.55;

const dir = resolve('out/bench-jobs');
mkdirSync(dir, { recursive: true });
const suite = join(dir, 'suite.yaml');
const prompts = [
  'A list in Python is',
  'When an exception is raised,',
  'The module provides functions for',
  'A dictionary maps',
  'To open a file,',
  'The for statement',
  'Classes provide',
  'A generator is',
];
writeFileSync(
  suite,
  [
    'id: bench-jobs',
    `model: ${resolve('models/detbench-tiny')}`,
    'prompts:',
    ...prompts.map((t) => `  - text: "${t}"`),
    'decoding: { greedy: true, temperature: [0.8], seed: [1] }',
    'max_new_tokens: 128',
    'repetitions: 20',
    'teacher_forcing: false',
    'runners:',
    '  - { id: cpu-1t, type: node-cpu, options: { intra_op_threads: 1, inter_op_threads: 1 } }',
    '',
  ].join('\n'),
);

function essence(rs: ResultRecord[]): string {
  return JSON.stringify(
    rs
      .map((r) => (r.status === 'completed' ? [r.id, (r as CompletedRecord).tokens, (r as CompletedRecord).steps] : [r.id, r.status]))
      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );
}

console.log(
  `machine: ${cpus()[0]?.model.trim() ?? '?'} · ${cpus().length} cores · node ${process.version} · load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
/** CPU seconds of this process and of its waited-for children (the --jobs workers), from /proc. */
function cpuSeconds(): number {
  const self = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // cutime and cstime, in clock ticks (100 per second on Linux).
  return (self.user + self.system) / 1e6 + (Number(fields[13]) + Number(fields[14])) / 100;
}

const times: Record<number, number[]> = { 1: [], [jobs]: [] };
let reference: string | null = null;
let identical = true;
for (let round = 0; round < rounds; round++) {
  // Alternate the order so that drift in the machine's load hits both alike.
  for (const j of round % 2 ? [jobs, 1] : [1, jobs]) {
    const out = join(dir, `r${round}-j${j}`, `results-${Date.now()}.jsonl`);
    const t0 = performance.now();
    const c0 = cpuSeconds();
    await runSuite({ suiteFile: suite, outFile: out, jobs: j });
    const s = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds() - c0;
    times[j]!.push(s);
    const e = essence(readResults(out));
    reference ??= e;
    identical &&= e === reference;
    // CPU time shows the work; wall time below CPU time ÷ cores means the jobs waited for a core.
    console.log(`round ${round + 1}: --jobs ${j}: ${s.toFixed(2)} s wall, ${cpu.toFixed(1)} s CPU (workers included) · load ${loadavg()[0]!.toFixed(1)}`);
  }
}
const m1 = median(times[1]!);
const mj = median(times[jobs]!);
const ratios = times[1]!.map((t, i) => times[jobs]![i]! / t);
console.log(`median: --jobs 1 ${m1.toFixed(2)} s · --jobs ${jobs} ${mj.toFixed(2)} s`);
console.log(
  `RATIO --jobs ${jobs} / --jobs 1: ${(mj / m1).toFixed(3)} (per round ${ratios.map((r) => r.toFixed(2)).join(', ')}) · goal ≤ ${GOAL} · ${mj / m1 <= GOAL ? 'met' : 'NOT met'}`,
);
console.log(
  `records identical apart from timings: ${identical ? 'yes' : 'NO'} · load at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (1, 5, 15 min; above ~0.5 other processes shared the cores)`,
);
