import { describe, expect, it } from 'vitest';
import { sseData } from '../runners/remote-api/body.ts';
import { backoffMs, parseRetryAfter, RemoteError, type RetryPolicy } from '../runners/remote-api/http.ts';
import { remoteApiOptions } from '../runners/remote-api/manifest.ts';
import { redactDeep, redactText } from '../runners/remote-api/redact.ts';
import { endpointUrl, publicUrl, requestBody } from '../runners/remote-api/request.ts';
import { CompletionBuilder } from '../runners/remote-api/response.ts';
import type { GenerationRequest } from '../src/runner-contract/types.ts';

const options = (o: Record<string, unknown> = {}) => remoteApiOptions.parse({ base_url: 'http://127.0.0.1:1/v1/', model: 'm', ...o });
const request = (sampling: GenerationRequest['sampling'], o: Partial<GenerationRequest> = {}): GenerationRequest => ({
  promptIds: [],
  promptText: 'Hi',
  maxNewTokens: 7,
  sampling,
  stopIds: [],
  topK: 5,
  ...o,
});

describe('remote-api request mapping', () => {
  it('greedy is temperature 0 with no seed; sampling sends temperature, top_p, seed, and top_k only when set', () => {
    expect(requestBody(request({ kind: 'greedy' }), options())).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 7,
      temperature: 0,
      logprobs: true,
      top_logprobs: 5,
      stream: true,
      stream_options: { include_usage: true },
    });
    const sampled = requestBody(
      request({ kind: 'sample', temperature: 0.7, topK: 0, topP: 0.9, seed: 42 }, { system: 'Be brief' }),
      options({ stream: false }),
    );
    expect(sampled).toMatchObject({
      temperature: 0.7,
      top_p: 0.9,
      seed: 42,
      messages: [
        { role: 'system', content: 'Be brief' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(sampled).not.toHaveProperty('top_k');
    expect(sampled).not.toHaveProperty('stream');
    expect(requestBody(request({ kind: 'sample', temperature: 1, topK: 40, topP: 1, seed: 0 }), options())).toMatchObject({ top_k: 40 });
  });

  it('completions take the prompt and an integer logprobs; options cap logprobs, rename max_tokens, add fields', () => {
    const body = requestBody(
      request({ kind: 'greedy' }),
      options({ endpoint: 'completions', max_top_logprobs: 3, return_token_ids: true, extra_body: { ignore_eos: true } }),
    );
    expect(body).toMatchObject({ prompt: 'Hi', logprobs: 3, return_token_ids: true, ignore_eos: true });
    expect(requestBody(request({ kind: 'greedy' }), options({ max_top_logprobs: 0, max_tokens_field: 'max_completion_tokens' }))).not.toHaveProperty(
      'logprobs',
    );
    expect(requestBody(request({ kind: 'greedy' }), options({ max_tokens_field: 'max_completion_tokens' }))).toMatchObject({ max_completion_tokens: 7 });
    expect(endpointUrl(options())).toBe('http://127.0.0.1:1/v1/chat/completions');
    expect(endpointUrl(options({ endpoint: 'completions' }))).toBe('http://127.0.0.1:1/v1/completions');
    expect(publicUrl('https://user:pw@example.com/v1')).toBe('https://example.com/v1');
  });
});

describe('remote-api retry timing', () => {
  const policy: RetryPolicy = { maxRetries: 5, baseMs: 100, maxMs: 1000, retryAfterCapMs: 5000, timeoutMs: 1000 };
  const err = (retryAfterMs?: number) => new RemoteError('X', 'x', { retryable: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

  it('reads Retry-After as seconds, as an HTTP date, and retry-after-ms', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(new Headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(parseRetryAfter(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }), now)).toBe(10_000);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Wed, 31 Dec 2025 00:00:10 GMT' }), now)).toBe(0);
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
  });

  it('backs off exponentially with jitter in [d/2, d], capped, and honours Retry-After up to its cap', () => {
    expect(backoffMs(1, policy, err(), () => 0)).toBe(50);
    expect(backoffMs(1, policy, err(), () => 1)).toBe(100);
    expect(backoffMs(3, policy, err(), () => 1)).toBe(400);
    expect(backoffMs(10, policy, err(), () => 1)).toBe(1000);
    expect(backoffMs(1, policy, err(2000))).toBe(2000);
    expect(backoffMs(1, policy, err(60_000))).toBe(5000);
  });
});

describe('remote-api response parsing', () => {
  const stream = (parts: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(new TextEncoder().encode(p));
        c.close();
      },
    });
  const all = async (s: ReadableStream<Uint8Array>) => {
    const out: string[] = [];
    for await (const d of sseData(s)) out.push(d);
    return out;
  };

  it('splits server-sent events across chunk boundaries, CRLF and multi-line data; drops an unterminated last event', async () => {
    expect(await all(stream(['data: {"a"', ':1}\r', '\n\r\n: comment\n\ndata:x\ndata: y\n\n', 'data: [DONE]\n\n', 'data: cut']))).toEqual([
      '{"a":1}',
      'x\ny',
      '[DONE]',
    ]);
  });

  it('parses one large event in time linear in its size: 8x the size takes less than 32x the CPU time (linear: 8x, quadratic: 64x)', async () => {
    // Fed in 8 KiB chunks (a socket delivers 16-64 KiB; smaller chunks make a rescan of the buffer
    // per chunk show at sizes where garbage collection stays small). This process's CPU time, not the
    // wall clock, so that other processes' load does not count; a ratio within this run, minimum of 3, interleaved.
    const event = (mb: number) => new TextEncoder().encode(`data: ${'z'.repeat(mb << 20)}\n\n`);
    const chunked = (bytes: Uint8Array) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let at = 0; at < bytes.length; at += 8192) c.enqueue(bytes.subarray(at, at + 8192));
          c.close();
        },
      });
    const cpuMs = async (bytes: Uint8Array) => {
      const c0 = process.cpuUsage();
      const [data] = await all(chunked(bytes));
      const c = process.cpuUsage(c0);
      expect(data!.length).toBe(bytes.length - 8);
      return (c.user + c.system) / 1000;
    };
    const small = event(1);
    const large = event(8);
    await cpuMs(small);
    const t = { small: [] as number[], large: [] as number[] };
    for (let i = 0; i < 3; i++) {
      t.small.push(await cpuMs(small));
      t.large.push(await cpuMs(large));
    }
    const ratio = Math.min(...t.large) / Math.min(...t.small);
    expect(ratio, `CPU ms, 1 MiB: ${t.small.map((x) => x.toFixed(1))}; 8 MiB: ${t.large.map((x) => x.toFixed(1))}`).toBeLessThan(32);
  });

  it('ranks candidates best first, takes margins, ids and the server facts', () => {
    const b = new CompletionBuilder('completions', true);
    b.add({
      id: 'c1',
      model: 'served',
      system_fingerprint: 'fp_1',
      detbench: { batch_size: 3 },
      choices: [
        {
          index: 0,
          text: 'ab',
          token_ids: [5, 6],
          logprobs: { tokens: ['a', 'b'], token_logprobs: [-0.5, -0.1], top_logprobs: [{ x: -2, a: -0.5 }, { b: -0.1 }] },
        },
      ],
    });
    b.add({ choices: [{ index: 0, text: '', finish_reason: 'length' }], usage: { total_tokens: 9 } });
    const c = b.result();
    expect(c).toMatchObject({ text: 'ab', tokenTexts: ['a', 'b'], tokenIds: [5, 6], topTokens: [['a', 'x'], ['b']], topLogprobs: [[-0.5, -2], [-0.1]] });
    expect(c).toMatchObject({ id: 'c1', model: 'served', systemFingerprint: 'fp_1', servedBatchSize: 3, finishReason: 'length', usage: { total_tokens: 9 } });
    expect(() => new CompletionBuilder('chat', false).add({ error: { message: 'overloaded' } })).toThrow(/overloaded/);
    expect(() => new CompletionBuilder('chat', false).add({ choices: {} })).toThrow(RemoteError);
  });
});

describe('remote-api accepts what real servers send', () => {
  // Shapes as OpenAI's API reference, vLLM's OpenAI server (return_token_ids) and llama.cpp's server
  // document them, with the fields the runner does not read left in.
  const run = (endpoint: 'chat' | 'completions', stream: boolean, messages: unknown[]) => {
    const b = new CompletionBuilder(endpoint, stream);
    for (const m of messages) b.add(m);
    return b.result();
  };

  it('OpenAI chat, whole (refusal, annotations, usage details, service_tier, null fingerprint) and streamed (usage chunk)', () => {
    const hello = {
      token: 'Hello',
      logprob: -0.31725305,
      bytes: [72, 101, 108, 108, 111],
      top_logprobs: [
        { token: 'Hello', logprob: -0.31725305, bytes: [72, 101, 108, 108, 111] },
        { token: 'Hi', logprob: -1.3190403, bytes: [72, 105] },
      ],
    };
    const whole = run('chat', false, [
      {
        id: 'chatcmpl-B9M',
        object: 'chat.completion',
        created: 1741569952,
        model: 'gpt-4.1-2025-04-14',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hello', refusal: null, annotations: [] },
            logprobs: { content: [hello], refusal: null },
            finish_reason: 'stop',
          },
        ],
        usage: {
          prompt_tokens: 19,
          completion_tokens: 1,
          total_tokens: 20,
          prompt_tokens_details: { cached_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
        service_tier: 'default',
        system_fingerprint: null,
      },
    ]);
    expect(whole).toMatchObject({
      text: 'Hello',
      tokenTexts: ['Hello'],
      topTokens: [['Hello', 'Hi']],
      finishReason: 'stop',
      model: 'gpt-4.1-2025-04-14',
      systemFingerprint: null,
    });
    const envelope = {
      id: 'chatcmpl-B9N',
      object: 'chat.completion.chunk',
      created: 1741569952,
      model: 'gpt-4.1',
      service_tier: 'default',
      system_fingerprint: 'fp_1',
    };
    const streamed = run('chat', true, [
      {
        ...envelope,
        choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }],
        usage: null,
        obfuscation: 'x1',
      },
      { ...envelope, choices: [{ index: 0, delta: { content: 'Hello' }, logprobs: { content: [hello], refusal: null }, finish_reason: null }], usage: null },
      { ...envelope, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }], usage: null },
      { ...envelope, choices: [], usage: { prompt_tokens: 19, completion_tokens: 1, total_tokens: 20 } },
    ]);
    expect(streamed).toMatchObject({
      text: 'Hello',
      tokenLogprobs: [-0.31725305],
      finishReason: 'length',
      usage: { total_tokens: 20 },
      systemFingerprint: 'fp_1',
    });
  });

  it('OpenAI and vLLM completions: text_offset, token_ids, stop_reason, prompt_logprobs, -9999 for -inf', () => {
    const c = run('completions', false, [
      {
        id: 'cmpl-1',
        object: 'text_completion',
        created: 1,
        model: 'Qwen/Qwen2.5-0.5B',
        choices: [
          {
            index: 0,
            text: ' Paris.',
            logprobs: {
              text_offset: [0, 6],
              token_logprobs: [-0.02, -9999.0],
              tokens: [' Paris', '.'],
              top_logprobs: [{ ' Paris': -0.02, ' Lyon': -4.1 }, { '.': -9999.0 }],
            },
            finish_reason: 'length',
            stop_reason: null,
            token_ids: [12095, 13],
            prompt_logprobs: null,
            prompt_token_ids: [785, 6722],
          },
        ],
        usage: { prompt_tokens: 2, total_tokens: 4, completion_tokens: 2, prompt_tokens_details: null },
        service_tier: null,
        system_fingerprint: null,
        kv_transfer_params: null,
      },
    ]);
    expect(c).toMatchObject({ text: ' Paris.', tokenIds: [12095, 13], tokenLogprobs: [-0.02, -9999], topTokens: [[' Paris', ' Lyon'], ['.']] });
  });

  it('llama.cpp chat stream: ids in logprobs, -FLT_MAX for a zero probability, an empty last delta, timings', () => {
    const envelope = { created: 1, id: 'chatcmpl-x', model: 'gpt-3.5-turbo', system_fingerprint: 'b5000-abc', object: 'chat.completion.chunk' };
    const c = run('chat', true, [
      {
        ...envelope,
        choices: [
          {
            finish_reason: null,
            index: 0,
            delta: { content: 'Hi' },
            logprobs: {
              content: [
                {
                  id: 123,
                  token: 'Hi',
                  bytes: [72, 105],
                  logprob: -0.2,
                  top_logprobs: [
                    { id: 123, token: 'Hi', bytes: [72, 105], logprob: -0.2 },
                    { id: 5, token: 'Hey', bytes: [72, 101, 121], logprob: -3.4028234663852886e38 },
                  ],
                },
              ],
            },
          },
        ],
      },
      {
        ...envelope,
        choices: [{ finish_reason: 'stop', index: 0, delta: {} }],
        usage: { completion_tokens: 1, prompt_tokens: 3, total_tokens: 4 },
        timings: { predicted_ms: 1.5 },
      },
    ]);
    expect(c).toMatchObject({ text: 'Hi', topLogprobs: [[-0.2, -3.4028234663852886e38]], finishReason: 'stop' });
  });
});

describe('API key redaction', () => {
  it('finds the base64 and base64url forms at every alignment, as in Basic auth, and only for keys long enough', () => {
    const key = 'sk-proj-Ab+/9xYz_0123456789';
    for (const before of ['', 'a', 'ab', 'api:', 'user:x']) {
      for (const alphabet of ['base64', 'base64url'] as const) {
        const encoded = Buffer.from(`${before}${key}!?`).toString(alphabet);
        const out = redactText(`Basic ${encoded}`, [key]);
        expect(out, `${before} ${alphabet}`).toContain('[REDACTED]');
        // At most 3 characters on each side survive (they also hold the neighbouring bytes).
        expect(out.replace('Basic ', '').replace('[REDACTED]', '').length).toBeLessThanOrEqual(Math.ceil(((before.length + 2) * 4) / 3) + 6);
      }
    }
    // A short secret has no base64 core to look for, so ordinary text stays as it is.
    expect(redactText('c2Vj is base64 of "sec"', ['sec'])).toBe('c2Vj is base64 of "[REDACTED]"');
  });

  it("drops a cut text's ending that could start a key", () => {
    expect(redactText('token: sk-pro', ['sk-proj-Ab'], true)).toBe('token: ');
    expect(redactText('token: sk-pro', ['sk-proj-Ab'])).toBe('token: sk-pro');
    expect(redactText('sk-proj-Ab and s', ['sk-proj-Ab'], true)).toBe('[REDACTED] and ');
  });

  it('replaces the key in text and deep inside values, in its plain, URL-encoded and JSON-escaped forms', () => {
    const key = 'sk-a/b"c';
    expect(redactText(`Bearer ${key} and ${encodeURIComponent(key)} and ${JSON.stringify(key)}`, [key])).toBe(
      'Bearer [REDACTED] and [REDACTED] and "[REDACTED]"',
    );
    const v = { a: [`x${key}`], [key]: 1, n: 2 };
    expect(redactDeep(v, [key])).toEqual({ a: ['x[REDACTED]'], '[REDACTED]': 1, n: 2 });
    const clean = { a: 'nothing' };
    expect(redactDeep(clean, [key])).toBe(clean);
  });
});
