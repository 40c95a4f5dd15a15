// The HTTP side of `npm run bench:serve`: a `detbench serve` process per batching mode, closed-loop
// streaming clients, and the server's CPU time per thread, kept apart from the bench's schedule and report.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { maxTokensOf } from './bench-serve-ceiling.ts';

/** How the server batches requests. */
export type Mode = 'continuous' | 'static';

/** Starts `detbench serve` on `modelDir` with `mode` batching (8 rows, 10 ms window) in its own process; resolves with its URL once it listens. */
export async function startServer(modelDir: string, mode: Mode): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['bin/detbench.mjs', 'serve', '--model', modelDir, '--port', '0', '--batching', mode, '--max-batch', '8', '--batch-window-ms', '10', '--quiet'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
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
export async function stream(url: string, model: string, prompts: readonly string[], k: number): Promise<{ tokens: number; ttftMs: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: prompts[k % prompts.length], max_tokens: maxTokensOf(k), temperature: 0, stream: true, return_token_ids: true }),
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
export async function cell(
  url: string,
  model: string,
  prompts: readonly string[],
  clients: number,
  seed: number,
  seconds: number,
): Promise<{ tokensPerSecond: number; ttftMs: number[]; requests: number }> {
  const end = performance.now() + seconds * 1000;
  const ttftMs: number[] = [];
  let tokens = 0;
  let k = seed;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const r = await stream(url, model, prompts, k++);
        tokens += r.tokens;
        ttftMs.push(r.ttftMs);
      }
    }),
  );
  return { tokensPerSecond: (tokens * 1000) / (performance.now() - t0), ttftMs, requests: ttftMs.length };
}

/** CPU seconds a process's main thread and its other threads (V8's helpers, libuv, workers) have used (Linux /proc; empty elsewhere). */
export function threadCpu(pid: number): Record<string, number> {
  const dir = `/proc/${pid}/task`;
  const out: Record<string, number> = {};
  if (!existsSync(dir)) return out;
  for (const tid of readdirSync(dir)) {
    try {
      const name = tid === String(pid) ? 'main' : 'other';
      const fields = readFileSync(`${dir}/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in 1/100 s
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return out;
}
/** CPU seconds per thread kind used between two {@link threadCpu} readings. */
export const cpuDelta = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(b).flatMap(([k, v]) => (v > (a[k] ?? 0) ? [[k, Math.round((v - (a[k] ?? 0)) * 100) / 100]] : [])));
