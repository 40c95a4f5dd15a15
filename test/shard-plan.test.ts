import { describe, expect, it } from 'vitest';
import { inShard, parseShard, resolveShard, shardOfUnit } from '../src/run/shard.ts';
import { detbenchError } from './helpers/errors.ts';

describe('shard assignment', () => {
  it('gives every prompt × setting to exactly one shard, sizes within one unit of each other', () => {
    const prompts = ['a', 'b', 'c', 'd', 'e'];
    const settings = ['greedy', 's1', 's2'];
    for (const count of [1, 2, 3, 4, 7, 15, 16]) {
      const sizes = new Array(count).fill(0) as number[];
      for (let p = 0; p < prompts.length; p++)
        for (let s = 0; s < settings.length; s++) {
          const owners = Array.from({ length: count }, (_, i) =>
            inShard({ index: i + 1, count }, prompts, settings)({ promptId: prompts[p]!, settingId: settings[s]! }),
          );
          expect(owners.filter(Boolean).length).toBe(1);
          sizes[shardOfUnit(p, s, settings.length, count) - 1]!++;
        }
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('is round-robin in prompt-major order', () => {
    expect([0, 1, 2, 3, 4, 5].map((u) => shardOfUnit(Math.floor(u / 2), u % 2, 2, 4))).toEqual([1, 2, 3, 4, 1, 2]);
  });
});

describe('--shard and the schedulers', () => {
  it('parses i/n, 1-based, and refuses an index outside 1..n', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    expect(detbenchError(() => parseShard('0/4')).message).toBe('--shard: shard 0 is outside 1..4');
    expect(detbenchError(() => parseShard('5/4')).message).toBe('--shard: shard 5 is outside 1..4');
    expect(detbenchError(() => parseShard('2 of 4')).code).toBe('SHARD_INVALID');
    expect(detbenchError(() => parseShard('1/0')).message).toContain('≥ 1');
  });

  it('reads a Kubernetes Indexed Job (0-based index, count passed in)', () => {
    expect(resolveShard({ shardCount: '4' }, { JOB_COMPLETION_INDEX: '0' })).toEqual({ shard: { index: 1, count: 4 }, source: 'kubernetes' });
    expect(resolveShard({ shardCount: '4' }, { JOB_COMPLETION_INDEX: '3' })).toEqual({ shard: { index: 4, count: 4 }, source: 'kubernetes' });
    expect(detbenchError(() => resolveShard({}, { JOB_COMPLETION_INDEX: '0' })).message).toContain('pass --shard-count');
    expect(detbenchError(() => resolveShard({ shardCount: '4' }, { JOB_COMPLETION_INDEX: '4' })).message).toContain('shard 5 is outside 1..4');
    expect(detbenchError(() => resolveShard({ shardCount: 'four' }, { JOB_COMPLETION_INDEX: '1' })).message).toContain(
      '--shard-count: expected a whole number',
    );
  });

  it('reads a Slurm job array whatever its first index', () => {
    const env = (id: number, min: number) => ({ SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_MIN: String(min), SLURM_ARRAY_TASK_COUNT: '4' });
    expect(resolveShard({}, env(0, 0))!.shard).toEqual({ index: 1, count: 4 });
    expect(resolveShard({}, env(4, 1))!.shard).toEqual({ index: 4, count: 4 });
    expect(resolveShard({}, env(12, 10))).toEqual({ shard: { index: 3, count: 4 }, source: 'slurm' });
    expect(detbenchError(() => resolveShard({}, { SLURM_ARRAY_TASK_ID: '1' })).message).toContain('SLURM_ARRAY_TASK_MIN is not');
    expect(detbenchError(() => resolveShard({ shardCount: '3' }, env(1, 0))).message).toContain('disagrees with SLURM_ARRAY_TASK_COUNT 4');
  });

  it('prefers --shard, and with neither flag nor scheduler runs everything', () => {
    expect(resolveShard({ shard: '2/3' }, { JOB_COMPLETION_INDEX: '0', SLURM_ARRAY_TASK_ID: '0' })).toEqual({
      shard: { index: 2, count: 3 },
      source: '--shard',
    });
    expect(resolveShard({}, {})).toBeNull();
    expect(detbenchError(() => resolveShard({ shardCount: '2' }, {})).code).toBe('SHARD_INVALID');
    expect(detbenchError(() => resolveShard({ shard: '1/2', shardCount: '2' }, {})).message).toContain('exclude each other');
  });
});
