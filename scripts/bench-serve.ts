// npm run bench:serve [-- <model-dir> [seconds-per-cell] [rounds]]
// Aggregate generated tokens/s of `detbench serve` with 8 concurrent streams against one stream,
// continuous against static batching, and time to first token under that load; then, for scale, the
// same ratio without HTTP (ContinuousBatch in this process), and how long the longest prompt the
// server will tokenize takes. Each server runs in
// its own process (`detbench serve`, one onnxruntime thread); clients here send greedy streamed
// completions in a closed loop (each client sends its next request as soon as its answer ends),
// with output lengths of 16 to 128 tokens, so requests arrive while others decode. Cells alternate
// round by round (order rotated), and the ratios are taken within each round.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { resolve } from 'node:path';
import { openEngine } from '../src/serve/engine.ts';
import { median, quartiles } from './bench-stats.ts';

const modelDir = resolve(process.argv[2] ?? 'models/detbench-tiny');
const seconds = Number(process.argv[3] ?? 4);
const rounds = Number(process.argv[4] ?? 3);
const MODES = ['continuous', 'static'] as const;
const LOADS = [1, 8] as const;
type Mode = (typeof MODES)[number];

const PROMPTS = ['The module provides functions for', 'A list in Python is', 'Return the value of', 'import os', 'class Foo:', 'If the file does not exist,', 'def main():', 'The following example shows'];

async function startServer(mode: Mode): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['bin/detbench.mjs', 'serve', '--model', modelDir, '--port', '0', '--batching', mode, '--max-batch', '8', '--batch-window-ms', '10', '--quiet'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /on (http:\/\/\S+\/v1)/.exec(err);
      if (m) ok(m[1]!);
    });
    child.on('exit', (code) => fail(new Error(`detbench serve (${mode}) exited with ${code}: ${err}`)));
  });
  return { url, child };
}

/** One streamed greedy completion: tokens received, and ms from sending to the first token. */
async function stream(url: string, model: string, k: number): Promise<{ tokens: number; ttftMs: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: PROMPTS[k % PROMPTS.length], max_tokens: 16 + ((k * 37) % 113), temperature: 0, stream: true, return_token_ids: true }),
  });
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let tokens = 0;
  let ttftMs = -1;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    buf += dec.decode(r.value, { stream: true });
    for (let cut = buf.indexOf('\n\n'); cut >= 0; cut = buf.indexOf('\n\n')) {
      const ev = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      if (!ev.startsWith('data: {')) continue;
      const n = (JSON.parse(ev.slice(6)) as { choices: { token_ids?: number[] }[] }).choices[0]?.token_ids?.length ?? 0;
      if (n > 0 && ttftMs < 0) ttftMs = performance.now() - t0;
      tokens += n;
    }
  }
  return { tokens, ttftMs };
}

/** `clients` closed-loop clients for `seconds`: aggregate tokens/s and every request's TTFT. */
async function cell(url: string, model: string, clients: number, seed: number): Promise<{ tokensPerSecond: number; ttftMs: number[]; requests: number }> {
  const end = performance.now() + seconds * 1000;
  const ttftMs: number[] = [];
  let tokens = 0;
  let k = seed;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const r = await stream(url, model, k++);
        tokens += r.tokens;
        ttftMs.push(r.ttftMs);
      }
    }),
  );
  return { tokensPerSecond: (tokens * 1000) / (performance.now() - t0), ttftMs, requests: ttftMs.length };
}

const model = 'detbench-tiny';
const servers = Object.fromEntries(await Promise.all(MODES.map(async (m) => [m, await startServer(m)] as const))) as Record<Mode, { url: string; child: ChildProcess }>;
type Cell = Awaited<ReturnType<typeof cell>>;
const results: { round: number; mode: Mode; clients: number; cell: Cell }[] = [];
try {
  for (const mode of MODES) await cell(servers[mode].url, model, 8, 0); // warm-up, not counted
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...MODES].reverse() : [...MODES];
    for (const mode of order) {
      for (const clients of LOADS) {
        const c = await cell(servers[mode].url, model, clients, round * 1000);
        results.push({ round, mode, clients, cell: c });
        process.stderr.write(`round ${round + 1}/${rounds} ${mode} ${clients} stream(s): ${c.tokensPerSecond.toFixed(0)} tokens/s, ${c.requests} requests, TTFT median ${median(c.ttftMs).toFixed(1)} ms\n`);
      }
    }
  }
} finally {
  for (const s of Object.values(servers)) s.child.kill('SIGTERM');
}

// The ceiling without HTTP: the same session's ContinuousBatch decoding 8 rows against 1 (tokens/s),
// alternated, so the serve ratio can be read against what the forward pass itself allows.
const engine = await openEngine({ modelDir, runner: 'node-cpu', batching: null });
const ceiling: { rows: number; tokensPerSecond: number }[] = [];
const promptIds = engine.encodePrompt(PROMPTS[0]!);
for (let round = 0; round < 2 * rounds; round++) {
  for (const rows of round % 2 ? [8, 1] : [1, 8]) {
    const batch = engine.openBatch<number>();
    const req = { promptIds, maxNewTokens: 128, sampling: { kind: 'greedy' as const }, stopIds: [], topK: 20 };
    const t0 = performance.now();
    let tokens = 0;
    await batch.join(Array.from({ length: rows }, (_, i) => ({ tag: i, req })), () => tokens++);
    while (batch.size > 0) await batch.step(() => tokens++);
    ceiling.push({ rows, tokensPerSecond: (tokens * 1000) / (performance.now() - t0) });
  }
}
const ceilingRatio = median(ceiling.filter((c) => c.rows === 8).map((c, i) => c.tokensPerSecond / ceiling.filter((x) => x.rows === 1)[i]!.tokensPerSecond));

// The longest prompt the server tokenizes (longer ones are refused untokenized): how long it holds the event loop.
const longest = PROMPTS.join(' ').repeat(Math.ceil(engine.promptByteLimit / 100)).slice(0, engine.promptByteLimit); // ASCII: one byte a character
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
        ttftMs8: { median: median(ttft8), quartiles: quartiles(ttft8), p90: [...ttft8].sort((a, b) => a - b)[Math.floor(0.9 * (ttft8.length - 1))] },
        ttftMs1: { median: median(ttft1) },
      },
    ];
  }),
);
const ttftRatio = pick('continuous', 8).map((r, i) => median(r.cell.ttftMs) / median(pick('static', 8)[i]!.cell.ttftMs));
const throughputRatio = pick('continuous', 8).map((r, i) => r.cell.tokensPerSecond / pick('static', 8)[i]!.cell.tokensPerSecond);
const out = {
  when: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, platform: `${platform()} ${release()}`, node: process.version },
  model: modelDir,
  seconds,
  rounds,
  summary,
  continuousOverStatic8: { throughput: median(throughputRatio), ttftMedian: median(ttftRatio), perRound: { throughput: throughputRatio, ttftMedian: ttftRatio } },
  ceilingWithoutHttp: { rows8over1: ceilingRatio, runs: ceiling },
  longestAdmissiblePrompt: { bytes: engine.promptByteLimit, tokenizeMsMedian: median(tokenizeMs), tokenizeMsMax: Math.max(...tokenizeMs) },
  results,
};
mkdirSync('out/bench', { recursive: true });
writeFileSync('out/bench/serve.json', JSON.stringify(out, null, 2));
for (const mode of MODES) {
  const s = summary[mode]!;
  console.log(
    `${mode.padEnd(10)} 1 stream ${s.tokensPerSecond1.toFixed(0)} tokens/s, 8 streams ${s.tokensPerSecond8.toFixed(0)} tokens/s: ${s.speedup8vs1.median.toFixed(2)}x (rounds ${s.speedup8vs1.perRound.map((x) => x.toFixed(2)).join(', ')}); TTFT under 8 streams median ${s.ttftMs8.median.toFixed(1)} ms, p90 ${s.ttftMs8.p90?.toFixed(1)} ms (alone ${s.ttftMs1.median.toFixed(1)} ms)`,
  );
}
console.log(`continuous / static with 8 streams: throughput ${out.continuousOverStatic8.throughput.toFixed(2)}x, median TTFT ${out.continuousOverStatic8.ttftMedian.toFixed(2)}x`);
console.log(`without HTTP (ContinuousBatch on the same session, 128 tokens, top-20 recorded): 8 rows ${ceilingRatio.toFixed(2)}x the tokens/s of 1 row`);
console.log(`longest prompt tokenized (${engine.promptByteLimit} bytes): median ${median(tokenizeMs).toFixed(1)} ms, max ${Math.max(...tokenizeMs).toFixed(1)} ms`);
console.log('written to out/bench/serve.json');
