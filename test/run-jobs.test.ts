import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runSuite } from '../api/index.ts';
import { main } from '../cli/main.ts';
import type { ReportData } from '../reports/data.ts';
import { generateReport } from '../reports/generate.ts';
import { manifestOf, RUNNERS } from '../runners/index.ts';
import { recordingPlan } from '../runners/ort-node/session.ts';
import { DetbenchError } from '../src/errors.ts';
import { CaptureReader, captureFileFor } from '../src/results/capture.ts';
import { readResults } from '../src/results/read.ts';
import type { CompletedRecord, ResultRecord } from '../src/results/record.ts';
import { autoJobs, parseJobs, runJobs } from '../src/run/jobs.ts';
import { coresForThisProcess, JOB_CORES_ENV, jobCores } from '../src/runner-contract/cores.ts';
import type { RunnerConfig } from '../src/suite/expand.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let dir: string;
let suite: string;

/** Everything but timings and times: what must not depend on --jobs. */
function essence(records: ResultRecord[]): unknown[] {
  return records
    .map((r) => {
      const { startedAt: _s, finishedAt: _f, ...rest } = r;
      if (r.status !== 'completed') return rest;
      const { timings: _t, environment: _e, ...done } = rest as CompletedRecord;
      return done;
    })
    .sort((a, b) => ((a as { id: string }).id < (b as { id: string }).id ? -1 : 1));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-jobs-'));
  suite = join(dir, 'suite.yaml');
  writeFileSync(
    suite,
    `id: j\nmodel: ${await tinyModelDir()}\nprompts:\n  - text: hello\n  - text: world peace\n  - text: the quick brown fox\ndecoding: { greedy: true, temperature: [0.9], seed: [3] }\nmax_new_tokens: 4\nrepetitions: 2\nrunners:\n  - { id: ref, type: node-cpu }\n  - { id: other, type: node-cpu, options: { graph_optimization: basic } }\n`,
  );
});

describe('the cores of one job', () => {
  it("is each job's share of the machine, at least one, and what a worker process reads", () => {
    expect(jobCores(2, 2)).toBe(1);
    expect(jobCores(3, 2)).toBe(1);
    expect(jobCores(2, 8)).toBe(4);
    expect(jobCores(3, 8)).toBe(2);
    expect(coresForThisProcess({ [JOB_CORES_ENV]: '1' })).toBe(1);
    expect(coresForThisProcess({})).toBe(availableParallelism());
    expect(coresForThisProcess({ [JOB_CORES_ENV]: 'x' })).toBe(availableParallelism());
    // Two one-thread jobs on two cores record inline: four busy threads would share two cores.
    expect(recordingPlan(jobCores(2, 2), 1)).toBe('inline');
    expect(recordingPlan(jobCores(1, 2), 1)).toBe('worker-thread+inline');
  });
});

describe('run --jobs', () => {
  it('gives the same records as one process, apart from timings, each saying how many jobs ran', async () => {
    const one = join(dir, 'one', 'results.jsonl');
    const two = join(dir, 'two', 'results.jsonl');
    await runSuite({ suiteFile: suite, outFile: one });
    const s = await runSuite({ suiteFile: suite, outFile: two, jobs: 2, capture: 'f32' });
    const a = readResults(one);
    const b = readResults(two);
    expect(s.completed).toBe(b.length);
    expect(b.length).toBe(36);
    expect(essence(b)).toEqual(essence(a));
    for (const r of b) if (r.status === 'completed') expect(r.environment.parallelJobs).toBe(2);
    for (const r of a) if (r.status === 'completed') expect(r.environment.parallelJobs).toBeUndefined();
    // Each job counts its share of the cores: no recording thread beside a job whose share its runner fills.
    for (const r of b) if (r.status === 'completed' && r.mode === 'free') expect(r.environment.recording).toBe(recordingPlan(jobCores(2), 1));
    for (const r of a) if (r.status === 'completed' && r.mode === 'free') expect(r.environment.recording).toBe(recordingPlan(availableParallelism(), 1));
    // Capture blocks come back from the workers too, checked against their records' hashes.
    const reader = new CaptureReader(captureFileFor(two));
    for (const r of b) if (r.status === 'completed') expect(reader.rows(r)!.steps).toBe(r.tokens.length);

    // The report marks their latency as measured under parallel load.
    const { htmlPath } = await generateReport([two], join(dir, 'report'));
    const html = readFileSync(htmlPath, 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="detbench-data">([^<]*)<\/script>/.exec(html)![1]!) as ReportData;
    expect(new Set(data.latency.map((p) => p.parallelJobs))).toEqual(new Set([2]));
  });

  it('combines with --shard: a shard in two jobs records its whole plan', async () => {
    const out = join(dir, 'shard', 'results.jsonl');
    await runSuite({ suiteFile: suite, outFile: out, shard: { index: 1, count: 2 }, jobs: 2 });
    const rs = readResults(out);
    expect(rs.length).toBe(18);
    for (const r of rs) expect(r.shard).toEqual({ index: 1, count: 2, planned: 18 });
  });

  it('fails the run naming a worker that died, keeping what it had sent', async () => {
    const got: ResultRecord[] = [];
    const pids = new Map<number, number>();
    const err = await runJobs(
      {
        suiteFile: suite,
        runners: RUNNERS.module,
        profile: readResults(join(dir, 'one', 'results.jsonl'))[0]!.profile,
        finished: [],
        references: [],
        shardPlanned: 36,
      },
      2,
      {
        start: () => {},
        runner: () => {},
        capture: () => {},
        worker: (i, pid) => pids.set(i, pid),
        record: (r) => {
          got.push(r);
          // Job 2 dies when the first record arrives (from either job): it has 18 cells left to run.
          if (got.length === 1) process.kill(pids.get(2)!, 'SIGKILL');
        },
      },
    ).catch((e: unknown) => e as DetbenchError);
    expect(err).toBeInstanceOf(DetbenchError);
    expect((err as DetbenchError).code).toBe('JOB_FAILED');
    expect((err as DetbenchError).message).toMatch(/job 2\/2 exited \(SIGKILL\) after \d+ record\(s\).*run again with --resume/);
    expect(got.length).toBeGreaterThan(0);
  });

  it("parses --jobs and picks auto from the runners' threads", async () => {
    expect(parseJobs('3')).toBe(3);
    expect(parseJobs('auto')).toBe('auto');
    expect(() => parseJobs('0')).toThrow('--jobs: expected a whole number ≥ 1 or auto, got "0"');
    const nodeCpu = manifestOf('node-cpu');
    const cpu = (threads: number): RunnerConfig => ({
      id: 'c',
      type: 'node-cpu',
      options: nodeCpu.options.parse({ intra_op_threads: threads }),
      manifest: nodeCpu,
      repetitions: 1,
    });
    expect(autoJobs([cpu(1)], 2)).toBe(2);
    expect(autoJobs([cpu(1), cpu(2)], 8)).toBe(4);
    expect(autoJobs([cpu(0)], 2)).toBe(1);
    const remote = manifestOf('remote-api');
    expect(
      autoJobs(
        [{ id: 'r', type: 'remote-api', options: remote.options.parse({ base_url: 'http://127.0.0.1:9/v1', model: 'm' }), manifest: remote, repetitions: 1 }],
        4,
      ),
    ).toBe(4);
    const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'detbench', 'run', suite, '--jobs', 'many', '-o', join(dir, 'x')])).toBe(2);
    } finally {
      e.mockRestore();
    }
  });
});
