/**
 * Writes realistic synthetic results (JSONL, one file per machine) for report development and the
 * report benchmark: several runners on two hardware profiles, repetitions, teacher-forced records,
 * top-10 candidates per step, and divergences that happen where the runner's rounding noise
 * exceeds a near-tie margin, as they do on real hardware.
 *
 *   node --import tsx scripts/make-synthetic-results.ts [--steps 1000000] [--out out/synthetic]
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResultRecord } from '../src/results/record.ts';
import { makeSyntheticResults, type SyntheticOptions } from './synthetic/records.ts';
import { SETTINGS } from './synthetic/study.ts';

export { makeSyntheticResults, type SyntheticOptions } from './synthetic/records.ts';

/** Writes one JSONL file per profile under `dir`; returns the paths and the step count. */
export function writeSyntheticResults(dir: string, opts: SyntheticOptions = {}): { files: string[]; steps: number; bytes: number } {
  mkdirSync(dir, { recursive: true });
  const fds = new Map<string, { fd: number; file: string }>();
  let bytes = 0;
  const steps = makeSyntheticResults((profile, r) => {
    let f = fds.get(profile);
    if (!f) {
      const file = join(dir, `${profile}.jsonl`);
      f = { fd: openSync(file, 'w'), file };
      fds.set(profile, f);
    }
    bytes += writeSync(f.fd, `${JSON.stringify(r)}\n`);
  }, opts);
  for (const f of fds.values()) closeSync(f.fd);
  return { files: [...fds.values()].map((f) => f.file), steps, bytes };
}

/** `r` with its shard where the record builder writes it, after `finishedAt` (the head a streaming read parses). */
function withShard(r: ResultRecord, shard: NonNullable<ResultRecord['shard']>): ResultRecord {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    out[k] = v;
    if (k === 'finishedAt') out.shard = shard;
  }
  return out as ResultRecord;
}

/**
 * Writes the same records as the shards of a `run --shard i/n` would: prompt × setting units
 * round-robin over `count` files (`shard-<i>.jsonl`), each record carrying its shard and that
 * shard's planned record count (counted in a first pass over the deterministic generator).
 */
export function writeSyntheticShards(dir: string, count: number, opts: SyntheticOptions = {}): { files: string[]; steps: number; bytes: number } {
  mkdirSync(dir, { recursive: true });
  const shardOf = (r: ResultRecord) => ((Number(r.prompt.id.slice(1)) * SETTINGS.length + SETTINGS.findIndex((s) => s.id === r.setting.id)) % count) + 1;
  const planned = new Array<number>(count + 1).fill(0);
  makeSyntheticResults((_p, r) => void planned[shardOf(r)]!++, opts);
  const files = Array.from({ length: count }, (_, i) => join(dir, `shard-${i + 1}.jsonl`));
  const fds = files.map((f) => openSync(f, 'w'));
  let bytes = 0;
  const steps = makeSyntheticResults((_p, r) => {
    const index = shardOf(r);
    bytes += writeSync(fds[index - 1]!, `${JSON.stringify(withShard(r, { index, count, planned: planned[index]! }))}\n`);
  }, opts);
  for (const fd of fds) closeSync(fd);
  return { files, steps, bytes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const out = arg('--out') ?? 'out/synthetic';
  const t0 = performance.now();
  const { files, steps, bytes } = writeSyntheticResults(out, { targetSteps: Number(arg('--steps') ?? 1_000_000) });
  console.log(`${steps} steps, ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${files.join(' ')}`);
}
