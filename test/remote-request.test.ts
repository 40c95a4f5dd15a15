import { describe, expect, it } from 'vitest';
import { backoffMs, parseRetryAfter, RemoteError, type RetryPolicy } from '../runners/remote-api/http.ts';
import { redactDeep, redactText } from '../runners/remote-api/redact.ts';
import { endpointUrl, publicUrl, requestBody } from '../runners/remote-api/request.ts';
import { CompletionBuilder, sseData } from '../runners/remote-api/response.ts';
import { remoteApiOptions } from '../src/runner/options.ts';
import type { GenerationRequest } from '../src/runner/types.ts';

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
    const sampled = requestBody(request({ kind: 'sample', temperature: 0.7, topK: 0, topP: 0.9, seed: 42 }, { system: 'Be brief' }), options({ stream: false }));
    expect(sampled).toMatchObject({ temperature: 0.7, top_p: 0.9, seed: 42, messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Hi' }] });
    expect(sampled).not.toHaveProperty('top_k');
    expect(sampled).not.toHaveProperty('stream');
    expect(requestBody(request({ kind: 'sample', temperature: 1, topK: 40, topP: 1, seed: 0 }), options())).toMatchObject({ top_k: 40 });
  });

  it('completions take the prompt and an integer logprobs; options cap logprobs, rename max_tokens, add fields', () => {
    const body = requestBody(request({ kind: 'greedy' }), options({ endpoint: 'completions', max_top_logprobs: 3, return_token_ids: true, extra_body: { ignore_eos: true } }));
    expect(body).toMatchObject({ prompt: 'Hi', logprobs: 3, return_token_ids: true, ignore_eos: true });
    expect(requestBody(request({ kind: 'greedy' }), options({ max_top_logprobs: 0, max_tokens_field: 'max_completion_tokens' }))).not.toHaveProperty('logprobs');
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

  it('ranks candidates best first, takes margins, ids and the server facts', () => {
    const b = new CompletionBuilder('completions');
    b.add({ id: 'c1', model: 'served', system_fingerprint: 'fp_1', detbench: { batch_size: 3 }, choices: [{ index: 0, text: 'ab', token_ids: [5, 6], logprobs: { tokens: ['a', 'b'], token_logprobs: [-0.5, -0.1], top_logprobs: [{ x: -2, a: -0.5 }, { b: -0.1 }] } }] });
    b.add({ choices: [{ index: 0, text: '', finish_reason: 'length' }], usage: { total_tokens: 9 } });
    const c = b.result();
    expect(c).toMatchObject({ text: 'ab', tokenTexts: ['a', 'b'], tokenIds: [5, 6], topTokens: [['a', 'x'], ['b']], topLogprobs: [[-0.5, -2], [-0.1]] });
    expect(c).toMatchObject({ id: 'c1', model: 'served', systemFingerprint: 'fp_1', servedBatchSize: 3, finishReason: 'length', usage: { total_tokens: 9 } });
    expect(() => new CompletionBuilder('chat').add({ error: { message: 'overloaded' } })).toThrow(/overloaded/);
    expect(() => new CompletionBuilder('chat').add({ choices: {} })).toThrow(RemoteError);
  });
});

describe('API key redaction', () => {
  it('replaces the key in text and deep inside values, in its plain, URL-encoded and JSON-escaped forms', () => {
    const key = 'sk-a/b"c';
    expect(redactText(`Bearer ${key} and ${encodeURIComponent(key)} and ${JSON.stringify(key)}`, [key])).toBe('Bearer [REDACTED] and [REDACTED] and "[REDACTED]"');
    const v = { a: [`x${key}`], [key]: 1, n: 2 };
    expect(redactDeep(v, [key])).toEqual({ a: ['x[REDACTED]'], '[REDACTED]': 1, n: 2 });
    const clean = { a: 'nothing' };
    expect(redactDeep(clean, [key])).toBe(clean);
  });
});
