import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../src/results/record.ts';
import { expectedTokens, type FaultServer, startFaultServer } from './helpers/fault-server.ts';
import { byPrompt, completed, errored, failFirst, KEY, KEY_ENV, runInto, tempDir, writeRemoteSuite } from './helpers/remote-suite.ts';

let dir: string;
let server: FaultServer | undefined;

beforeAll(() => {
  dir = tempDir('detbench-remote-');
  process.env[KEY_ENV] = KEY;
});
afterAll(() => {
  delete process.env[KEY_ENV];
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const writeSuite = (name: string, prompts: string[], options: Record<string, unknown> = {}, extra: string[] = []) =>
  writeRemoteSuite(dir, server!.url, name, prompts, options, extra);
const run = (name: string, suiteFile: string, resume = false): Promise<ResultRecord[]> => runInto(dir, name, suiteFile, resume);

describe('remote-api against a misbehaving loopback server', () => {
  it('keeps text, token texts, top logprobs, server facts and latency, streaming and not, chat and completions', async () => {
    server = await startFaultServer(() => ({ kind: 'ok' }));
    for (const [endpoint, stream] of [
      ['chat', true],
      ['chat', false],
      ['completions', true],
      ['completions', false],
    ] as const) {
      const name = `ok-${endpoint}-${stream}`;
      const r = completed((await run(name, writeSuite(name, ['hi'], { endpoint, stream })))[0]);
      const toks = expectedTokens('hi');
      expect(r.text).toBe(toks.join(''));
      expect(r.tokenTexts).toEqual(toks);
      expect(r.tokens).toEqual([]);
      expect(r.steps.topTokens![0]).toEqual([toks[0], `${toks[0]}?`]);
      expect(r.steps.topLogprobs[0]).toEqual([-0.1, -1.1]);
      expect(r.steps.margin[0]).toBeCloseTo(1);
      expect(r.finishReason).toBe('stop');
      expect(r.extra).toMatchObject({ systemFingerprint: 'fp_fault', model: 'fault-model', attempts: 1, usage: { completion_tokens: 3 } });
      const latency = r.extra!.latency as { ttftMs: number | null; totalMs: number };
      expect(latency.totalMs).toBeGreaterThan(0);
      if (stream) expect(latency.ttftMs).toBeGreaterThan(0);
    }
    const [chat, , completions] = server.requests;
    expect(chat!.path).toBe('/v1/chat/completions');
    expect(chat!.body).toMatchObject({ model: 'fault-model', temperature: 0, logprobs: true, top_logprobs: 2, max_tokens: 8, stream: true });
    expect(chat!.body.seed).toBeUndefined();
    expect(chat!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(completions!.path).toBe('/v1/completions');
    expect(completions!.body).toMatchObject({ prompt: 'hi', logprobs: 2 });
  });

  it('retries 500s and connection resets, and honours Retry-After on 429 (seconds, capped)', async () => {
    server = await startFaultServer((req) => {
      if (req.prompt === 'five') return failFirst(2, { kind: 'status', status: 500 })(req);
      if (req.prompt === 'reset') return failFirst(2, { kind: 'reset' })(req);
      if (req.prompt === 'slow429') return failFirst(1, { kind: 'status', status: 429, retryAfter: '1' })(req);
      if (req.prompt === 'long429') return failFirst(1, { kind: 'status', status: 429, retryAfter: '3600' })(req);
      if (req.prompt === 'date429') return failFirst(1, { kind: 'status', status: 429, retryAfter: new Date(Date.now() + 2000).toUTCString() })(req);
      return { kind: 'ok' };
    });
    const records = await run('retry', writeSuite('retry', ['five', 'reset', 'slow429', 'long429', 'date429'], { retry_after_cap_ms: 400 }));
    for (const id of ['five', 'reset', 'slow429', 'long429', 'date429']) completed(byPrompt(records, id)[0]);
    expect(server.attempts('five')).toBe(3);
    expect(completed(byPrompt(records, 'five')[0]).extra!.attempts).toBe(3);
    expect(server.attempts('reset')).toBe(3);
    const gap = (p: string) => {
      const [a, b] = server!.requests.filter((r) => r.prompt === p);
      return b!.at - a!.at;
    };
    // Retry-After: 1 waits about a second, though the backoff alone would be a few ms; the cap (400 ms) applies.
    expect(gap('slow429')).toBeGreaterThanOrEqual(350);
    expect(gap('long429')).toBeGreaterThanOrEqual(350);
    expect(gap('long429')).toBeLessThan(1500);
    expect(gap('date429')).toBeGreaterThanOrEqual(350);
    expect(gap('five')).toBeLessThan(300);
  });

  it('times out hung requests, retries them, and records the error; the run goes on and --resume completes it', async () => {
    let healthy = false;
    server = await startFaultServer((req) => {
      if (healthy) return { kind: 'ok' };
      if (req.prompt === 'hang') return { kind: 'hang' };
      if (req.prompt === 'down') return { kind: 'status', status: 503 };
      if (req.prompt === 'garbage') return { kind: 'garbage' };
      if (req.prompt === 'cut') return { kind: 'truncate', how: 'end' };
      if (req.prompt === 'cut2') return { kind: 'truncate', how: 'destroy' };
      return { kind: 'ok' };
    });
    const suite = writeSuite('resume', ['good', 'hang', 'down', 'garbage', 'cut', 'cut2', 'good2'], { timeout_ms: 300, max_retries: 2, concurrency: 8 }, [
      'batch_sizes: 7',
    ]);
    const t0 = Date.now();
    const first = await run('resume', suite);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(first).toHaveLength(7);
    completed(byPrompt(first, 'good')[0]);
    completed(byPrompt(first, 'good2')[0]);

    const hang = errored(byPrompt(first, 'hang')[0]);
    expect(hang.error.code).toBe('REMOTE_TIMEOUT');
    expect(hang.error.message).toMatch(/300 ms.*after 3 attempts/);
    expect(server.attempts('hang')).toBe(3);

    const down = errored(byPrompt(first, 'down')[0]);
    expect(down.error.code).toBe('REMOTE_HTTP_ERROR');
    expect(down.error.message).toMatch(/^POST \/v1\/chat\/completions: HTTP 503.*injected 503.*after 3 attempts/);

    const garbage = errored(byPrompt(first, 'garbage')[0]);
    expect(garbage.error.code).toBe('REMOTE_BAD_RESPONSE');
    expect(server.attempts('garbage')).toBe(1); // a malformed answer is not retried

    expect(errored(byPrompt(first, 'cut')[0]).error.code).toBe('REMOTE_TRUNCATED');
    expect(errored(byPrompt(first, 'cut2')[0]).error.code).toBe('REMOTE_NETWORK');
    expect(server.attempts('cut')).toBe(3);
    expect(server.attempts('cut2')).toBe(3);

    healthy = true;
    const before = server.requests.length;
    const second = await run('resume', suite, true);
    // The five errored cells run again, in a batch of 7 filled up with other prompts (whose answers
    // are dropped); the finished records are kept as they were and not written again.
    expect(server.requests.length - before).toBe(7);
    expect(second).toHaveLength(7 + 5);
    const latest = new Map(second.map((r) => [r.prompt.id, r]));
    for (const id of ['good', 'hang', 'down', 'garbage', 'cut', 'cut2', 'good2']) completed(latest.get(id));
    const goodBefore = completed(byPrompt(first, 'good')[0]);
    expect(second.filter((r) => r.id === goodBefore.id)).toEqual([goodBefore]);
  });

  it('sends a batch concurrently up to the limit', async () => {
    server = await startFaultServer(() => ({ kind: 'ok', delayMs: 100 }));
    const records = await run('conc', writeSuite('conc', ['a', 'b', 'c', 'd', 'e', 'f'], { concurrency: 2 }, ['batch_sizes: 6']));
    expect(records.filter((r) => r.status === 'completed')).toHaveLength(6);
    expect(server.maxInFlight()).toBe(2);
  });

  it('never writes the API key, even when the server echoes the Authorization header', async () => {
    server = await startFaultServer((req) => (req.prompt === 'leak' ? { kind: 'echo-auth', status: 401 } : { kind: 'echo-auth', status: 500 }));
    const records = await run('leak', writeSuite('leak', ['leak', 'leak5'], { max_retries: 1 }));
    const leak = errored(byPrompt(records, 'leak')[0]);
    expect(leak.error.message).toContain('Bearer [REDACTED]');
    expect(server.attempts('leak')).toBe(1);
    expect(server.attempts('leak5')).toBe(2);
    expect(errored(byPrompt(records, 'leak5')[0]).error.message).toContain('[REDACTED]');
    const file = readFileSync(join(dir, 'leak', 'results.jsonl'), 'utf8');
    expect(file).not.toContain(KEY);
    expect(file).toContain(KEY_ENV); // the variable's name is recorded, its value never
  });

  it('retries a refused connection, then records a network error', async () => {
    server = await startFaultServer(() => ({ kind: 'ok' }));
    const suite = writeSuite('refused', ['x'], { max_retries: 2 });
    await server.close(); // nothing listens on the port any more
    const r = errored((await run('refused', suite))[0]);
    expect(r.error.code).toBe('REMOTE_NETWORK');
    expect(r.error.message).toMatch(/ECONNREFUSED.*after 3 attempts/);
    server = undefined;
  });

  it('skips every cell with the reason when the key variable is not set', async () => {
    server = await startFaultServer(() => ({ kind: 'ok' }));
    const records = await run('nokey', writeSuite('nokey', ['x'], { api_key_env: 'DETBENCH_TEST_UNSET_KEY' }));
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r.status).toBe('skipped');
      if (r.status === 'skipped') expect(r.reason).toContain('DETBENCH_TEST_UNSET_KEY (api_key_env) is not set');
    }
    expect(server.requests).toHaveLength(0);
  });
});
