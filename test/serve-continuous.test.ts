import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNERS } from '../runners/index.ts';
import { type ServeHandle, startServe } from '../src/serve/server.ts';
import { answer, post } from './helpers/serve-client.ts';

// The shipped model in fp32: its greedy margins are far above what batching moves its logits by.
const MODEL = fileURLToPath(new URL('../models/detbench-tiny', import.meta.url));

let continuous: ServeHandle;
let staticBatch: ServeHandle;
let alone: ServeHandle;

beforeAll(async () => {
  [continuous, staticBatch, alone] = await Promise.all([
    startServe({ runners: RUNNERS, modelDir: MODEL, runner: 'node-cpu', batching: { mode: 'continuous', maxBatch: 16, windowMs: 0 } }),
    startServe({ runners: RUNNERS, modelDir: MODEL, runner: 'node-cpu', batching: { mode: 'static', maxBatch: 8, windowMs: 0 } }),
    startServe({ runners: RUNNERS, modelDir: MODEL, runner: 'node-cpu', batching: null }),
  ]);
});
afterAll(async () => {
  await Promise.all([continuous?.close(), staticBatch?.close(), alone?.close()]);
});

const completion = (prompt: string, max_tokens: number, extra: Record<string, unknown> = {}) => ({
  model: 'detbench-tiny',
  prompt,
  max_tokens,
  temperature: 0,
  return_token_ids: true,
  ...extra,
});

/** A streamed greedy completion of `n` tokens. */
const longRun = (prompt: string, n: number) => completion(prompt, n, { stream: true });

/** A long streamed request, and a short one sent once the long one has streamed its first token. */
async function joinScenario(h: ServeHandle) {
  let short: Promise<Awaited<ReturnType<typeof answer>>> | undefined;
  const long = answer(await post(h, '/completions', longRun('The list type', 200)), (i) => {
    if (i === 0) short = post(h, '/completions', completion('A tuple is', 4)).then((r) => answer(r));
  });
  const longDone = await long;
  return { long: longDone, short: await short! };
}

async function aloneTokens(body: Record<string, unknown>): Promise<number[]> {
  return (await answer(await post(alone, '/completions', { ...body, stream: false }))).tokenIds;
}

describe('detbench serve: continuous batching', () => {
  it("frees each pass's buffers at once: the batch it opens has the runner's release, which detaches them", () => {
    const { release } = continuous.engine.openBatch<number>().model;
    expect(release).toBeTypeOf('function');
    const view = new Float32Array(16);
    release!(view);
    expect(view.length).toBe(0); // detached: its memory is gone, not left to the collector
  });

  it('a short request sent while a long one decodes joins it, finishes first and reports a batch size above 1', async () => {
    const { long, short } = await joinScenario(continuous);
    expect(short.status).toBe(200);
    expect(short.doneAt).toBeLessThan(long.doneAt);
    expect(short.batchSize).toBe(2);
    expect(short.header).toBe('2');
    // Its prefill runs beside the batch (a group of one); every later token is computed with the long request.
    expect(short.batchSizes).toEqual([1, 2, 2, 2]);
    expect(long.batchSizes).toContain(2);
    expect(long.batchSizes.at(-1)).toBe(1);
    expect(long.batchSize).toBe(2);
    expect(short.tokenIds).toEqual(await aloneTokens(completion('A tuple is', 4)));
    expect(long.tokenIds).toEqual(await aloneTokens(longRun('The list type', 200)));
  });

  it('static batching makes the same short request wait for the long batch to end', async () => {
    const { long, short } = await joinScenario(staticBatch);
    expect(short.doneAt).toBeGreaterThan(long.doneAt);
    expect(short.batchSizes).toEqual([1, 1, 1, 1]);
    expect(long.batchSizes.every((s) => s === 1)).toBe(true);
  });

  it('64 concurrent requests with distinct prompts each get the tokens they get alone (fp32)', async () => {
    const words = ['The', 'A list', 'Python', 'class', 'Return the', 'import', 'def', 'If the'];
    const bodies = Array.from({ length: 64 }, (_, i) =>
      completion(`${words[i % 8]} ${words[(i * 3 + 1) % 8]!.toLowerCase()} ${i}`, 6 + (i % 13), { stream: i % 3 === 0 }),
    );
    const served = await Promise.all(bodies.map(async (b) => answer(await post(continuous, '/completions', b))));
    const single: number[][] = [];
    for (const b of bodies) single.push(await aloneTokens(b));
    served.forEach((a, i) => {
      expect(a.status).toBe(200);
      expect(a.tokenIds, `request ${i}`).toEqual(single[i]);
      expect(a.batchSizes).toHaveLength(a.tokenIds.length);
    });
    const largest = Math.max(...served.map((a) => a.batchSize));
    expect(largest).toBe(16);
    // Companions changed while requests decoded: some answers saw more than one batch size.
    expect(served.filter((a) => new Set(a.batchSizes.slice(1)).size > 1).length).toBeGreaterThan(0);
  });

  it('requests that cannot join get a 400 and leave the running batch undisturbed', async () => {
    const bad = [
      completion('x'.repeat(10), 10_000),
      { ...completion('hi', 4), temperature: 'cold' },
      { ...completion('hi', 4), prompt: [1, 2, 99999] },
      completion('y'.repeat(3_000_000), 4),
    ];
    const body = longRun('The list type', 120);
    let statuses: Promise<number[]> | undefined;
    const long = await answer(await post(continuous, '/completions', body), (i) => {
      if (i === 2) statuses = Promise.all(bad.map(async (b) => (await post(continuous, '/completions', b)).status));
    });
    expect(await statuses).toEqual([400, 400, 400, 400]);
    expect(long.batchSizes.every((s) => s === 1)).toBe(true);
    expect(long.tokenIds).toEqual(await aloneTokens(body));
  });

  it('a client that disconnects mid-decode leaves the batch at the next step and frees its row', async () => {
    const ac = new AbortController();
    let stays: Promise<Awaited<ReturnType<typeof answer>>> | undefined;
    let health: Promise<{ running: number; waiting: number }> | undefined;
    const gone = await answer(await post(continuous, '/completions', longRun('def main', 240), { signal: ac.signal }), (i) => {
      if (i !== 0) return;
      stays = post(continuous, '/completions', longRun('import os', 200)).then((r) =>
        answer(r, (j) => {
          if (j === 3) ac.abort();
          if (j === 100) health = fetch(continuous.url.replace(/\/v1$/, '/health')).then((h) => h.json() as never);
        }),
      );
    });
    expect(gone.tokenIds.length).toBeLessThan(240);
    const kept = await stays!;
    expect(kept.batchSizes.slice(1, 4)).toEqual([2, 2, 2]);
    const firstAlone = kept.batchSizes.indexOf(1, 1);
    expect(firstAlone).toBeGreaterThan(3);
    expect(kept.batchSizes.slice(firstAlone).every((s) => s === 1)).toBe(true);
    expect(await health).toMatchObject({ running: 1, waiting: 0 });
    expect(kept.tokenIds).toEqual(await aloneTokens(longRun('import os', 200)));
  });
});
