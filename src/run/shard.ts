/**
 * Sharding a suite across machines: which cells shard i of n runs. Pure: a function of the suite's
 * prompts and settings alone, so every shard computes the same split wherever it runs, whatever
 * runners are available there or which were picked with --runner.
 *
 * The unit is one prompt × setting, with every runner, batch size and repetition of it and the
 * teacher-forced passes: all repetitions of a cell stay on one machine (else hardware differences
 * would pass for run-to-run variance), and a teacher-forced pass needs the reference runner's record
 * of the same prompt and setting, so the reference runs where the others do. Units go round-robin in
 * suite order (prompt-major): shard sizes differ by at most one unit.
 */
import { DetbenchError } from '../errors.ts';

/** Shard `index` of `count`, 1-based (as vitest and Playwright write `--shard 2/4`). */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/n`; anything else, or an i outside 1..n, is a `SHARD_INVALID` error naming `source`. */
export function parseShard(text: string, source = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new DetbenchError('SHARD_INVALID', `${source}: expected i/n (1-based, e.g. 2/4), got "${text}"`);
  return checkShard(Number(m[1]), Number(m[2]), source);
}

/** Checks 1 ≤ index ≤ count. */
export function checkShard(index: number, count: number, source: string): Shard {
  if (!Number.isSafeInteger(count) || count < 1)
    throw new DetbenchError('SHARD_INVALID', `${source}: the shard count must be a whole number ≥ 1, got ${count}`);
  if (!Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new DetbenchError('SHARD_INVALID', `${source}: shard ${index} is outside 1..${count}`);
  }
  return { index, count };
}

/** Where a shard came from, for the log line and the README. */
export type ShardSource = '--shard' | 'kubernetes' | 'slurm';

/** Parses an environment variable that must be a non-negative integer. */
function intVar(env: NodeJS.ProcessEnv, name: string): number {
  const v = env[name]!;
  if (!/^\d+$/.test(v.trim())) throw new DetbenchError('SHARD_INVALID', `${name}: expected a whole number, got "${v}"`);
  return Number(v);
}

/**
 * The shard of this process: `--shard i/n` if given; else the scheduler's index: a Kubernetes
 * Indexed Job's `JOB_COMPLETION_INDEX` (0-based) with `--shard-count n` (the Job's `completions`), or
 * a Slurm job array's `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN` and `SLURM_ARRAY_TASK_COUNT` (any
 * first index: `--array=0-3` and `--array=1-4` both give shards 1..4). Null when none applies (the
 * whole suite runs). GitHub Actions has no index variable: its matrix passes `--shard`.
 */
export function resolveShard(o: { shard?: string; shardCount?: string }, env: NodeJS.ProcessEnv): { shard: Shard; source: ShardSource } | null {
  if (o.shard !== undefined) {
    if (o.shardCount !== undefined) throw new DetbenchError('SHARD_INVALID', '--shard and --shard-count exclude each other (--shard i/n names the count)');
    return { shard: parseShard(o.shard), source: '--shard' };
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    if (o.shardCount === undefined) {
      throw new DetbenchError('SHARD_INVALID', "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): pass --shard-count with the Job's completions");
    }
    if (!/^\d+$/.test(o.shardCount)) throw new DetbenchError('SHARD_INVALID', `--shard-count: expected a whole number, got "${o.shardCount}"`);
    return {
      shard: checkShard(intVar(env, 'JOB_COMPLETION_INDEX') + 1, Number(o.shardCount), 'JOB_COMPLETION_INDEX with --shard-count'),
      source: 'kubernetes',
    };
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    for (const name of ['SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_COUNT']) {
      if (env[name] === undefined)
        throw new DetbenchError('SHARD_INVALID', `SLURM_ARRAY_TASK_ID is set but ${name} is not: run inside a job array (sbatch --array)`);
    }
    const id = intVar(env, 'SLURM_ARRAY_TASK_ID');
    const min = intVar(env, 'SLURM_ARRAY_TASK_MIN');
    const count = intVar(env, 'SLURM_ARRAY_TASK_COUNT');
    if (o.shardCount !== undefined && o.shardCount !== String(count)) {
      throw new DetbenchError('SHARD_INVALID', `--shard-count ${o.shardCount} disagrees with SLURM_ARRAY_TASK_COUNT ${count}`);
    }
    return { shard: checkShard(id - min + 1, count, 'SLURM_ARRAY_TASK_ID'), source: 'slurm' };
  }
  if (o.shardCount !== undefined)
    throw new DetbenchError('SHARD_INVALID', '--shard-count needs a scheduler index (JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID); use --shard i/n otherwise');
  return null;
}

/**
 * The shard (1-based) that runs prompt `promptIndex` × setting `settingIndex` of a suite with
 * `settings` settings: the unit's place in prompt-major order, round-robin over `count` shards.
 */
export function shardOfUnit(promptIndex: number, settingIndex: number, settings: number, count: number): number {
  return ((promptIndex * settings + settingIndex) % count) + 1;
}

/**
 * A predicate on cells: whether shard `s` runs the cell of this prompt and setting, and, with `job`
 * (`--jobs`), whether that job of the shard does: the shard's units split round-robin again, in order.
 */
export function inShard(
  s: Shard | undefined,
  promptIds: readonly string[],
  settingIds: readonly string[],
  job?: Shard,
): (c: { promptId: string; settingId: string }) => boolean {
  const p = new Map(promptIds.map((id, i) => [id, i]));
  const q = new Map(settingIds.map((id, i) => [id, i]));
  const n = s?.count ?? 1;
  return (c) => {
    const unit = p.get(c.promptId)! * settingIds.length + q.get(c.settingId)!;
    if ((unit % n) + 1 !== (s?.index ?? 1)) return false;
    // The unit's rank among its shard's units, round-robin over the jobs.
    return !job || (Math.floor(unit / n) % job.count) + 1 === job.index;
  };
}

/** Prompt × setting units that shard `s` (or the whole suite) holds. */
export function unitsIn(s: Shard | undefined, units: number): number {
  if (!s) return units;
  return Math.floor(units / s.count) + (s.index <= units % s.count ? 1 : 0);
}
