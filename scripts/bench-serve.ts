// npm run bench:serve [-- <model-dir> [seconds-per-cell] [rounds]]
// Aggregate generated tokens/s of `detbench serve` with 8 concurrent streams against one stream,
// continuous against static batching, and time to first token under that load; then what those
// figures are read against: the same workload without HTTP (the server's scheduler and
// ContinuousBatch in this process, session.run timed apart), onnxruntime alone (no detbench code)
// with 8 rows against 1, and how long the longest prompt the server will tokenize takes. Each
// server runs in its own process (`detbench serve`, one onnxruntime thread); clients here send
// greedy streamed completions in a closed loop (each client sends its next request as soon as its
// answer ends), with output lengths of 16 to 128 tokens, so requests arrive while others decode.
// Cells alternate round by round (order rotated), and the ratios are taken within each round.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { resolve } from 'node:path';
import { RUNNERS } from '../runners/index.ts';
import { ortNodeVersion } from '../runners/ort-node/session.ts';
import { openEngine } from '../src/serve/engine.ts';
import { inProcessWorkload, ortAlone, type WorkloadCell } from './bench-serve-ceiling.ts';
import { cell, cpuDelta, type Mode, startServer, threadCpu } from './bench-serve-http.ts';
import { median, quartiles } from './bench-stats.ts';

const modelDir = resolve(process.argv[2] ?? 'models/detbench-tiny');
const seconds = Number(process.argv[3] ?? 4);
const rounds = Number(process.argv[4] ?? 3);
const MODES: readonly Mode[] = ['continuous', 'static'];
const LOADS = [1, 8] as const;

const PROMPTS = [
  'The module provides functions for',
  'A list in Python is',
  'Return the value of',
  'import os',
  'class Foo:',
  'If the file does not exist,',
  'def main():',
  'The following example shows',
];

const model = 'detbench-tiny';
const loadBefore = loadavg();
const servers = Object.fromEntries(await Promise.all(MODES.map(async (m) => [m, await startServer(modelDir, m)] as const))) as Record<
  Mode,
  Awaited<ReturnType<typeof startServer>>
>;
// A bench stopped by a signal takes its servers with it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const s of Object.values(servers)) s.child.kill('SIGTERM');
    process.exit(130);
  });
}
type Cell = Awaited<ReturnType<typeof cell>>;
const results: {
  round: number;
  mode: Mode;
  clients: number;
  cell: Cell;
  serverThreadCpuSeconds: Record<string, number>;
  tokensPerServerCpuSecond: number | null;
}[] = [];
try {
  for (const mode of MODES) await cell(servers[mode].url, model, PROMPTS, 8, 0, seconds); // warm-up, not counted
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...MODES].reverse() : [...MODES];
    for (const mode of order) {
      for (const clients of LOADS) {
        const cpu0 = threadCpu(servers[mode].child.pid!);
        const c = await cell(servers[mode].url, model, PROMPTS, clients, round * 1000, seconds);
        const serverThreadCpuSeconds = cpuDelta(cpu0, threadCpu(servers[mode].child.pid!));
        const serverCpu = Object.values(serverThreadCpuSeconds).reduce((a, b) => a + b, 0);
        results.push({
          round,
          mode,
          clients,
          cell: c,
          serverThreadCpuSeconds,
          tokensPerServerCpuSecond: serverCpu > 0 ? (c.tokensPerSecond * seconds) / serverCpu : null,
        });
        process.stderr.write(
          `round ${round + 1}/${rounds} ${mode} ${clients} stream(s): ${c.tokensPerSecond.toFixed(0)} tokens/s, ${c.requests} requests, TTFT median ${median(c.ttftMs).toFixed(1)} ms\n`,
        );
      }
    }
  }
} finally {
  for (const s of Object.values(servers)) s.child.kill('SIGTERM');
}

// Without HTTP: the same workload through the server's scheduler and ContinuousBatch in this process.
const engine = await openEngine({ modelDir, runners: RUNNERS, runner: 'node-cpu', batching: null });
const workload = await inProcessWorkload(engine, PROMPTS, { seconds: Math.max(2, seconds - 1), rounds, windowMs: 10, clients: [1, 8], releaseBuffers: true });
// The same 8 clients with the batch's buffers left to V8's collector (as before detbench freed them), alternated round by round with the server's way.
const gcAb: (WorkloadCell & { released: boolean })[] = [];
for (let round = 0; round < rounds; round++) {
  for (const released of round % 2 ? [true, false] : [false, true]) {
    const [c] = await inProcessWorkload(engine, PROMPTS, { seconds: 2, rounds: 1, windowMs: 10, clients: [8], releaseBuffers: released, warmUp: false });
    gcAb.push({ released, ...c! });
  }
}
const gcOf = (released: boolean) => gcAb.filter((c) => c.released === released);
const releaseGain = median(gcOf(true).map((c, i) => c.tokensPerCpuSecond / gcOf(false)[i]!.tokensPerCpuSecond));
const w = (clients: number) => workload.filter((c) => c.clients === clients);
const workloadRatio = median(w(8).map((c, i) => c.tokensPerSecond / w(1)[i]!.tokensPerSecond));
const workloadRunRatio = median(w(8).map((c, i) => c.tokensPerRunSecond / w(1)[i]!.tokensPerRunSecond));
const workloadCpuRatio = median(w(8).map((c, i) => c.tokensPerCpuSecond / w(1)[i]!.tokensPerCpuSecond));

// One ContinuousBatch of 8 identical 128-token requests against 1, every row's top-20 summary read.
const ceiling: { rows: number; tokensPerSecond: number }[] = [];
const promptIds = engine.encodePrompt(PROMPTS[0]!);
for (let round = 0; round < 2 * rounds; round++) {
  for (const rows of round % 2 ? [8, 1] : [1, 8]) {
    const batch = engine.openBatch<number>();
    const req = { promptIds, maxNewTokens: 128, sampling: { kind: 'greedy' as const }, stopIds: [], topK: 20 };
    const t0 = performance.now();
    let tokens = 0;
    const on = (e: { summary: unknown }) => {
      tokens++;
      void e.summary; // computed on this read
    };
    await batch.join(
      Array.from({ length: rows }, (_, i) => ({ tag: i, req })),
      on,
    );
    while (batch.size > 0) await batch.step(on);
    ceiling.push({ rows, tokensPerSecond: (tokens * 1000) / (performance.now() - t0) });
  }
}
const ceilingRatio = median(ceiling.filter((c) => c.rows === 8).map((c, i) => c.tokensPerSecond / ceiling.filter((x) => x.rows === 1)[i]!.tokensPerSecond));

// onnxruntime alone, no detbench code: what 8 rows cost against 1 in the graph itself.
const { config } = engine.model;
const ort = await ortAlone(engine.model.onnxPath, { layers: config.numLayers, heads: config.numKvHeads, headDim: config.headDim }, rounds);
const ortStep = (rows: number, past: number) => ort.steps.find((c) => c.rows === rows && c.past === past)!.ms;
const ortStepRatios = Object.fromEntries([1, 64, 128].map((past) => [past, (8 * ortStep(1, past)) / ortStep(8, past)]));
const ortStepCpu = (rows: number, past: number) => ort.steps.find((c) => c.rows === rows && c.past === past)!.cpuMs;
const ortStepCpuRatios = Object.fromEntries([1, 64, 128].map((past) => [past, (8 * ortStepCpu(1, past)) / ortStepCpu(8, past)]));
const chainOf = (rows: number) => ort.chain.filter((c) => c.rows === rows);
const ortChainRatio = median(chainOf(8).map((c, i) => c.tokensPerSecond / chainOf(1)[i]!.tokensPerSecond));
const ortChainCpuRatio = median(chainOf(8).map((c, i) => c.tokensPerCpuSecond / chainOf(1)[i]!.tokensPerCpuSecond));

// The longest prompt the server tokenizes (longer ones are refused untokenized): how long it holds the event loop.
const longest = PROMPTS.join(' ')
  .repeat(Math.ceil(engine.promptByteLimit / 100))
  .slice(0, engine.promptByteLimit); // ASCII: one byte a character
const tokenizeMs: number[] = [];
for (let i = 0; i < 20; i++) {
  const t0 = performance.now();
  engine.model.tokenizer.encode(longest);
  tokenizeMs.push(performance.now() - t0);
}
await engine.close();

const pick = (mode: Mode, clients: number) => results.filter((r) => r.mode === mode && r.clients === clients);
const summary = Object.fromEntries(
  MODES.map((mode) => {
    const speedup = pick(mode, 8).map((r, i) => r.cell.tokensPerSecond / pick(mode, 1)[i]!.cell.tokensPerSecond);
    const ttft8 = pick(mode, 8).flatMap((r) => r.cell.ttftMs);
    const ttft1 = pick(mode, 1).flatMap((r) => r.cell.ttftMs);
    return [
      mode,
      {
        tokensPerSecond1: median(pick(mode, 1).map((r) => r.cell.tokensPerSecond)),
        tokensPerSecond8: median(pick(mode, 8).map((r) => r.cell.tokensPerSecond)),
        speedup8vs1: { median: median(speedup), perRound: speedup },
        /** The same ratio in tokens per second of the server's CPU time (Linux): what is left when other jobs' preemptions are taken out, the server's idle time at 1 stream too. */
        serverCpuSpeedup8vs1: median(pick(mode, 8).map((r, i) => (r.tokensPerServerCpuSecond ?? NaN) / (pick(mode, 1)[i]!.tokensPerServerCpuSecond ?? NaN))),
        ttftMs8: { median: median(ttft8), quartiles: quartiles(ttft8), p90: [...ttft8].sort((a, b) => a - b)[Math.floor(0.9 * (ttft8.length - 1))] },
        ttftMs1: { median: median(ttft1) },
        /** Share of the 1-stream cells' time its requests spent in the batch window (10 ms each, waiting for companions that never come). */
        windowShare1: median(pick(mode, 1).map((r) => (r.cell.requests * 10) / (seconds * 1000))),
      },
    ];
  }),
);
const ttftRatio = pick('continuous', 8).map((r, i) => median(r.cell.ttftMs) / median(pick('static', 8)[i]!.cell.ttftMs));
const throughputRatio = pick('continuous', 8).map((r, i) => r.cell.tokensPerSecond / pick('static', 8)[i]!.cell.tokensPerSecond);
const cont8 = pick('continuous', 8);
const out = {
  when: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, platform: `${platform()} ${release()}`, node: process.version, onnxruntime: ortNodeVersion() },
  loadAverage: { before: loadBefore, after: loadavg() },
  model: modelDir,
  seconds,
  rounds,
  summary,
  continuousOverStatic8: {
    throughput: median(throughputRatio),
    ttftMedian: median(ttftRatio),
    perRound: { throughput: throughputRatio, ttftMedian: ttftRatio },
  },
  /** CPU seconds per thread of the continuous server during its 8-stream cells (Linux). */
  continuousServerThreadCpu8: cont8.map((r) => r.serverThreadCpuSeconds),
  withoutHttp: {
    workload: { rows8over1: workloadRatio, sessionRunOnly8over1: workloadRunRatio, cpuTime8over1: workloadCpuRatio, cells: workload },
    /** 8 clients, the batch's buffers freed at once (as served) or left to V8: tokens per CPU second, full collections. */
    releaseBuffers: { cpuGain: releaseGain, cells: gcAb },
    batch128: { rows8over1: ceilingRatio, runs: ceiling },
  },
  onnxruntimeAlone: {
    stepRows8over1ByPast: ortStepRatios,
    stepRows8over1ByPastCpu: ortStepCpuRatios,
    chain128Rows8over1: ortChainRatio,
    chain128Rows8over1Cpu: ortChainCpuRatio,
    ...ort,
  },
  longestAdmissiblePrompt: { bytes: engine.promptByteLimit, tokenizeMsMedian: median(tokenizeMs), tokenizeMsMax: Math.max(...tokenizeMs) },
  results,
};
mkdirSync('out/bench', { recursive: true });
writeFileSync('out/bench/serve.json', JSON.stringify(out, null, 2));
const x = (r: number) => `${r.toFixed(2)}x`;
for (const mode of MODES) {
  const s = summary[mode]!;
  console.log(
    `${mode.padEnd(10)} 1 stream ${s.tokensPerSecond1.toFixed(0)} tokens/s, 8 streams ${s.tokensPerSecond8.toFixed(0)} tokens/s: ${x(s.speedup8vs1.median)} (rounds ${s.speedup8vs1.perRound.map((r) => r.toFixed(2)).join(', ')}; per second of server CPU ${x(s.serverCpuSpeedup8vs1)}); TTFT under 8 streams median ${s.ttftMs8.median.toFixed(1)} ms, p90 ${s.ttftMs8.p90?.toFixed(1)} ms (alone ${s.ttftMs1.median.toFixed(1)} ms); 1 stream spent ${(100 * s.windowShare1).toFixed(0)}% of its time in the batch window`,
  );
}
const threads = (k: string) => cont8.map((r) => r.serverThreadCpuSeconds[k] ?? 0);
console.log(
  `continuous server's CPU during each ${seconds} s cell of 8 streams: main thread ${threads('main')
    .map((v) => v.toFixed(2))
    .join(', ')} s; its other threads together ${threads('other')
    .map((v) => v.toFixed(2))
    .join(', ')} s`,
);
console.log(
  `continuous / static with 8 streams: throughput ${x(out.continuousOverStatic8.throughput)}, median TTFT ${x(out.continuousOverStatic8.ttftMedian)}`,
);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `without HTTP, the same workload (scheduler + ContinuousBatch in process): 8 clients ${x(workloadRatio)} the tokens/s of 1 (per CPU second ${x(workloadCpuRatio)}); counting session.run time only ${x(workloadRunRatio)}; ` +
    `per pass with 8 clients: session.run ${mean(w(8).map((c) => c.runMsPerPass)).toFixed(3)} ms, the rest ${mean(w(8).map((c) => c.restMsPerPass)).toFixed(3)} ms, ${mean(w(8).map((c) => c.meanRows)).toFixed(1)} rows; with 1: ${mean(w(1).map((c) => c.runMsPerPass)).toFixed(3)} ms and ${mean(w(1).map((c) => c.restMsPerPass)).toFixed(3)} ms`,
);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
console.log(
  `without HTTP, 8 clients, buffers freed at once (as served) against left to V8's collector: ${x(releaseGain)} the tokens per CPU second; full collections ${sum(gcOf(true).map((c) => c.majorGcs))} against ${sum(gcOf(false).map((c) => c.majorGcs))}, GC ${sum(gcOf(true).map((c) => c.gcMs)).toFixed(0)} ms against ${sum(gcOf(false).map((c) => c.gcMs)).toFixed(0)} ms (${rounds} x 2 s each)`,
);
console.log(`without HTTP, one ContinuousBatch of 8 identical 128-token requests (top-20 summaries): ${x(ceilingRatio)} the tokens/s of 1 row`);
console.log(
  `onnxruntime alone (no detbench code), one decode step, 8 rows against 1: ${[1, 64, 128].map((p) => `past ${p}: ${ortStep(1, p).toFixed(3)} ms vs ${ortStep(8, p).toFixed(3)} ms = ${x(ortStepRatios[p]!)} the tokens/s (CPU ${x(ortStepCpuRatios[p]!)})`).join('; ')}; a 128-token decode chain: ${x(ortChainRatio)} (CPU ${x(ortChainCpuRatio)}); 32 rows over past 1: ${ortStep(32, 1).toFixed(3)} ms`,
);
console.log(
  `longest prompt tokenized (${engine.promptByteLimit} bytes): median ${median(tokenizeMs).toFixed(1)} ms, max ${Math.max(...tokenizeMs).toFixed(1)} ms`,
);
console.log(
  `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const goal = summary.continuous!.speedup8vs1.median;
const ttft = summary.continuous!.ttftMs8.median <= summary.static!.ttftMs8.median;
console.log(
  `GOAL continuous batching, 8 streams >= 3x one stream's tokens/s: ${x(goal)} (rounds ${summary.continuous!.speedup8vs1.perRound.map((r) => r.toFixed(2)).join(', ')}) -> ${goal >= 3 ? 'MET' : 'NOT MET'}`,
);
console.log(
  `GOAL time to first token under 8 streams, continuous <= static: median ${summary.continuous!.ttftMs8.median.toFixed(1)} ms vs ${summary.static!.ttftMs8.median.toFixed(1)} ms -> ${ttft ? 'MET' : 'NOT MET'}`,
);
console.log('written to out/bench/serve.json');
