/**
 * Reader benchmark: the CPU time the one reader (`src/results/read.ts`) spends validating records,
 * against the whole lean read, over the report benchmark's synthetic results (1,000,000 decode steps;
 * written by `npm run bench:report`, or here when absent). CPU time, not wall time, and three
 * rounds, so that a busy machine disturbs the ratio less.
 *
 *   node --import tsx scripts/bench-read.ts [--dir out/bench-report]
 */
import { existsSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { streamResults } from '../src/results/read.ts';
import type { ResultRecord } from '../src/results/record.ts';
import { resultRecordSchema } from '../src/results/schema.ts';
import { checkRecord } from '../src/results/validate.ts';
import { writeSyntheticResults } from './make-synthetic-results.ts';

const i = process.argv.indexOf('--dir');
const dir = join(i >= 0 ? process.argv[i + 1]! : 'out/bench-report', 'results');
if (!existsSync(dir)) writeSyntheticResults(dir, { targetSteps: 1_000_000 });
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.jsonl'))
  .map((f) => join(dir, f));
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
console.log(`machine: ${cpus()[0]?.model.trim() ?? '?'} · ${cpus().length} cores · node ${process.version} · load ${loadavg()[0]!.toFixed(1)}`);
for (let round = 0; round < 3; round++) {
  const records: ResultRecord[] = [];
  let t = cpu();
  for (const f of files) streamResults(f, (r) => records.push(r), { lean: true });
  const read = cpu() - t;
  t = cpu();
  for (const r of records) checkRecord(r, 'bench', 1);
  const check = cpu() - t;
  t = cpu();
  for (const r of records) resultRecordSchema.safeParse(r);
  const zod = cpu() - t;
  console.log(
    `round ${round}: ${records.length} records · lean read ${read.toFixed(2)} s CPU, of which validation ${check.toFixed(2)} s (${((100 * check) / read).toFixed(0)}%) · zod alone over whole records ${zod.toFixed(2)} s`,
  );
}
