// What `npm run bench:serve` reads the HTTP figures against: the same workload without HTTP (detbench's
// scheduler and ContinuousBatch in this process, onnxruntime's session.run timed apart), and
// onnxruntime alone (no detbench code at all), 8 rows against 1.
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { ContinuousBatch } from '../src/decode/continuous.ts';
import type { DecodeRequest, SessionLike } from '../src/decode/types.ts';
import type { Engine } from '../src/serve/engine.ts';
import { type ContinuousJob, ContinuousScheduler } from '../src/serve/scheduler.ts';
import { median } from './bench-stats.ts';

/** Output length of the k-th request, as the HTTP clients ask (16 to 128 tokens). */
export const maxTokensOf = (k: number) => 16 + ((k * 37) % 113);

/** One in-process cell: tokens/s, and how the time split between session.run and everything else. */
export interface WorkloadCell {
  clients: number;
  tokensPerSecond: number;
  /** Tokens per second of session.run time alone: what the schedule would give if detbench's own work cost nothing. */
  tokensPerRunSecond: number;
  /** Forward passes (decode steps and prefills) and their mean rows. */
  passes: number;
  meanRows: number;
  /** Per pass: session.run, and the rest (feeds, cache layout, argmax, hash, scheduling, waits). */
  runMsPerPass: number;
  restMsPerPass: number;
  /** Tokens per second of this process's CPU time (user + system): less moved by other jobs than wall time. */
  tokensPerCpuSecond: number;
  /** V8's full (mark-compact) collections during the cell, and the ms all its collections took. */
  majorGcs: number;
  gcMs: number;
}

/** Counts V8's collections as they are reported (asynchronously, so read a cell's after it ends). */
function watchGc(): { major: number; ms: number; stop(): void } {
  const seen = { major: 0, ms: 0, stop: () => observer.disconnect() };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      seen.ms += e.duration;
      if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) seen.major++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return seen;
}

/** This process's CPU time (user + system) in ms. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Times every session.run of `session` into `clock` (the engine's session, shared by its batches). */
function timeRuns(session: SessionLike, clock: { ms: number; passes: number; rows: number }): () => void {
  const run = session.run.bind(session);
  const timed: SessionLike['run'] = async (feeds) => {
    const t0 = performance.now();
    const out = await run(feeds);
    clock.ms += performance.now() - t0;
    clock.passes++;
    clock.rows += feeds.input_ids!.dims[0]!;
    return out;
  };
  (session as { run: SessionLike['run'] }).run = timed;
  return () => {
    (session as { run: SessionLike['run'] }).run = run;
  };
}

/**
 * The HTTP bench's workload (closed-loop clients, the same prompts and output lengths, greedy) through
 * the server's own ContinuousScheduler and ContinuousBatch, without HTTP: each token's hash is taken,
 * as a response without log-probabilities sends it. 1 client and 8 alternate, `rounds` times.
 */
export async function inProcessWorkload(
  engine: Engine,
  prompts: readonly string[],
  opts: { seconds: number; rounds: number; windowMs: number; clients: readonly number[]; releaseBuffers: boolean; warmUp?: boolean },
): Promise<WorkloadCell[]> {
  interface Job extends ContinuousJob {
    done(): void;
  }
  // The server's batch frees each pass's buffers at once; without that (as before), V8 collects them.
  const served = engine.openBatch<Job>();
  const batch = opts.releaseBuffers ? served : new ContinuousBatch<Job>(served.model, { release: null });
  const session = batch.model.session;
  const clock = { ms: 0, passes: 0, rows: 0 };
  const restore = timeRuns(session, clock);
  let tokens = 0;
  let hashes = '';
  const scheduler = new ContinuousScheduler<Job>(
    batch,
    { maxBatch: 8, windowMs: opts.windowMs },
    {
      joined() {},
      token(job, e) {
        tokens++;
        hashes = e.hash;
        if (e.finished) job.done();
      },
      failed(_job, err) {
        throw err;
      },
      withdrawn() {},
      log() {},
    },
  );
  const ids = prompts.map((p) => engine.encodePrompt(p));
  const cell = async (clients: number, seed: number): Promise<WorkloadCell> => {
    tokens = 0;
    Object.assign(clock, { ms: 0, passes: 0, rows: 0 });
    let k = seed;
    const end = performance.now() + opts.seconds * 1000;
    const t0 = performance.now();
    const c0 = cpuMs();
    const gc = watchGc();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < end) {
          const j = k++;
          const decode: DecodeRequest = { promptIds: ids[j % ids.length]!, maxNewTokens: maxTokensOf(j), sampling: { kind: 'greedy' }, stopIds: [], topK: 1 };
          await new Promise<void>((done) => scheduler.submit({ arrivedAt: performance.now(), cancelled: () => false, decode, done }));
        }
      }),
    );
    const ms = performance.now() - t0;
    const cpu = cpuMs() - c0;
    await new Promise((r) => setTimeout(r, 20)); // the last collections' entries arrive
    gc.stop();
    return {
      clients,
      tokensPerCpuSecond: (tokens * 1000) / cpu,
      majorGcs: gc.major,
      gcMs: gc.ms,
      tokensPerSecond: (tokens * 1000) / ms,
      tokensPerRunSecond: (tokens * 1000) / clock.ms,
      passes: clock.passes,
      meanRows: clock.rows / clock.passes,
      runMsPerPass: clock.ms / clock.passes,
      restMsPerPass: (ms - clock.ms) / clock.passes,
    };
  };
  const cells: WorkloadCell[] = [];
  try {
    if (opts.warmUp !== false) await cell(8, 0);
    for (let round = 0; round < opts.rounds; round++) {
      for (const clients of round % 2 ? [...opts.clients].reverse() : opts.clients) cells.push(await cell(clients, round * 1000));
    }
  } finally {
    restore();
  }
  if (hashes.length !== 16) throw new Error('the in-process workload recorded no hashes');
  return cells;
}

/** onnxruntime alone: one decode step's session.run for `rows` rows over `past` cached positions. */
export interface OrtCell {
  rows: number;
  past: number;
  /** Median ms of one session.run. */
  ms: number;
  /** Mean CPU ms of one session.run (this process, user + system). */
  cpuMs: number;
}

/**
 * The shipped graph in a session of its own (CPU, one thread, as `detbench serve` opens it), fed
 * by hand, no detbench code: (1) one decode step of 1 and 8 rows over pasts of 1, 64 and 128
 * positions (and 32 rows over 1), the same input tensors every time (cache-warm: the best case); (2) a decode chain of
 * 128 tokens after a 6-token prompt, each step's presents fed back as the next pasts, 1 row and 8.
 */
export async function ortAlone(
  onnxPath: string,
  dims: { layers: number; heads: number; headDim: number },
  rounds: number,
): Promise<{ steps: OrtCell[]; chain: { rows: number; tokensPerSecond: number; tokensPerCpuSecond: number }[] }> {
  const session = await ort.InferenceSession.create(onnxPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const { layers, heads, headDim } = dims;
  const withPositions = session.inputNames.includes('position_ids');
  const feedsOf = (rows: number, width: number, past: number, cache: (i: number) => ort.Tensor): Record<string, ort.Tensor> => {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', new BigInt64Array(rows * width).fill(100n), [rows, width]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(rows * (past + width)).fill(1n), [rows, past + width]),
    };
    if (withPositions)
      feeds.position_ids = new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: rows * width }, (_, i) => BigInt(past + (i % width))),
        [rows, width],
      );
    for (let i = 0; i < layers; i++) {
      feeds[`past_key_values.${i}.key`] = cache(2 * i);
      feeds[`past_key_values.${i}.value`] = cache(2 * i + 1);
    }
    return feeds;
  };
  try {
    const steps: OrtCell[] = [];
    // 32 rows over one position: nearly all dense matmuls, to read the core's matmul rate from.
    for (const [past, rowsList] of [
      [1, [1, 8, 32]],
      [64, [1, 8]],
      [128, [1, 8]],
    ] as const) {
      for (const rows of rowsList) {
        const feeds = feedsOf(
          rows,
          1,
          past,
          () => new ort.Tensor('float32', new Float32Array(rows * heads * past * headDim).fill(0.01), [rows, heads, past, headDim]),
        );
        for (let i = 0; i < 10; i++) await session.run(feeds);
        const ms: number[] = [];
        const c0 = cpuMs();
        for (let i = 0; i < 100 * rounds; i++) {
          const t0 = performance.now();
          await session.run(feeds);
          ms.push(performance.now() - t0);
        }
        steps.push({ rows, past, ms: median(ms), cpuMs: (cpuMs() - c0) / ms.length });
      }
    }
    const chain: { rows: number; tokensPerSecond: number; tokensPerCpuSecond: number }[] = [];
    const prompt = 6;
    const tokens = 128;
    for (let round = 0; round < 2 * rounds; round++) {
      for (const rows of round % 2 ? [8, 1] : [1, 8]) {
        let cache: ort.Tensor[] = Array.from({ length: 2 * layers }, () => new ort.Tensor('float32', new Float32Array(0), [rows, heads, 0, headDim]));
        const t0 = performance.now();
        const c0 = cpuMs();
        for (let step = 0; step < tokens; step++) {
          const width = step === 0 ? prompt : 1;
          const out = await session.run(feedsOf(rows, width, step === 0 ? 0 : prompt + step - 1, (i) => cache[i]!));
          cache = Array.from({ length: layers }, (_, i) => [out[`present.${i}.key`]!, out[`present.${i}.value`]!]).flat() as ort.Tensor[];
        }
        chain.push({ rows, tokensPerSecond: (rows * tokens * 1000) / (performance.now() - t0), tokensPerCpuSecond: (rows * tokens * 1000) / (cpuMs() - c0) });
      }
    }
    return { steps, chain };
  } finally {
    await session.release();
  }
}
