// node --import tsx scripts/bench-sse.ts [max-MB]
// Time to parse one server-sent event of 2, 4, 8, ... MB (fed in 64 KiB chunks, as a socket
// delivers them) with the remote-api runner's SSE reader, and the ratio per doubling: about 2 is
// linear, about 4 quadratic. Wall-clock and this process's CPU time, medians of 3 runs in one process.
import { cpus } from 'node:os';
import { sseData } from '../runners/remote-api/body.ts';
import { median } from './bench-stats.ts';

const maxMb = Number(process.argv[2] ?? 16);
const CHUNK = 64 * 1024;

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.subarray(at, at + CHUNK));
      at += CHUNK;
    },
  });
}

async function parseMs(mb: number): Promise<{ wall: number; cpu: number }> {
  const bytes = new TextEncoder().encode(`data: ${'x'.repeat(mb * 1024 * 1024)}\n\ndata: [DONE]\n\n`);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let n = 0;
  for await (const d of sseData(streamOf(bytes))) n += d.length;
  const c = process.cpuUsage(c0);
  if (n !== mb * 1024 * 1024 + 6) throw new Error(`parsed ${n} characters`);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

console.log(`${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`);
let previous: { wall: number; cpu: number } | undefined;
for (let mb = 2; mb <= maxMb; mb *= 2) {
  const runs = [await parseMs(mb), await parseMs(mb), await parseMs(mb)];
  const ms = { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
  const ratio = previous ? `  (x${(ms.wall / previous.wall).toFixed(2)} wall, x${(ms.cpu / previous.cpu).toFixed(2)} CPU for x2 size)` : '';
  console.log(`${String(mb).padStart(3)} MB: ${ms.wall.toFixed(0).padStart(6)} ms wall, ${ms.cpu.toFixed(0).padStart(6)} ms CPU${ratio}`);
  previous = ms;
}
