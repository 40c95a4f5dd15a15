import { describe, expect, it } from 'vitest';
import { type Batchable, DynamicBatcher } from '../src/serve/batcher.ts';

interface Job extends Batchable {
  name: string;
  gone?: boolean;
}

const job = (name: string, gone = false): Job => ({ name, arrivedAt: performance.now(), cancelled: () => gone, gone });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder(runMs = 0) {
  const batches: string[][] = [];
  const run = async (jobs: Job[]) => {
    batches.push(jobs.map((j) => j.name));
    await sleep(runMs);
  };
  return { batches, run };
}

describe('dynamic batcher', () => {
  it('groups jobs that arrive within the window, up to the largest batch', async () => {
    const { batches, run } = recorder();
    const b = new DynamicBatcher<Job>(run, { maxBatch: 3, windowMs: 40 });
    b.submit(job('a'));
    await sleep(5);
    b.submit(job('b'));
    await sleep(100);
    for (const n of ['c', 'd', 'e', 'f']) b.submit(job(n));
    await b.idle();
    expect(batches).toEqual([['a', 'b'], ['c', 'd', 'e'], ['f']]);
  });

  it('queues jobs that arrive during a batch for the next one, and drops cancelled jobs', async () => {
    const { batches, run } = recorder(50);
    const b = new DynamicBatcher<Job>(run, { maxBatch: 8, windowMs: 0 });
    b.submit(job('a'));
    await sleep(10);
    b.submit(job('b'));
    b.submit(job('gone', true));
    b.submit(job('c'));
    await b.idle();
    expect(batches).toEqual([['a'], ['b', 'c']]);
  });

  it('with a largest batch of 1 (batching off) runs every job alone', async () => {
    const { batches, run } = recorder(5);
    const b = new DynamicBatcher<Job>(run, { maxBatch: 1, windowMs: 0 });
    for (const n of ['a', 'b', 'c']) b.submit(job(n));
    await b.idle();
    expect(batches).toEqual([['a'], ['b'], ['c']]);
  });

  it('keeps going after a batch throws', async () => {
    const batches: string[][] = [];
    const b = new DynamicBatcher<Job>(
      async (jobs) => {
        batches.push(jobs.map((j) => j.name));
        if (jobs[0]!.name === 'a') throw new Error('boom');
      },
      { maxBatch: 1, windowMs: 0 },
    );
    b.submit(job('a'));
    b.submit(job('b'));
    await b.idle();
    expect(batches).toEqual([['a'], ['b']]);
  });
});
