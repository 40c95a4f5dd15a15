import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNERS } from '../runners/index.ts';
import { type ServeHandle, startServe } from '../src/serve/server.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let batched: ServeHandle;
let alone: ServeHandle;

beforeAll(async () => {
  const modelDir = await tinyModelDir();
  [batched, alone] = await Promise.all([
    startServe({ runners: RUNNERS, modelDir, runner: 'node-cpu', batching: { maxBatch: 8, windowMs: 100 } }),
    startServe({ runners: RUNNERS, modelDir, runner: 'node-cpu', batching: null }),
  ]);
});
afterAll(async () => {
  await Promise.all([batched?.close(), alone?.close()]);
});

const post = (h: ServeHandle, path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });

async function errorOf(res: Response) {
  const body = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  return { status: res.status, ...body.error };
}

/** The `data:` payloads of an SSE body. */
async function events(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6));
}

describe('detbench serve: the OpenAI surface', () => {
  it('lists its model and answers 404 for another', async () => {
    const list = (await (await fetch(`${alone.url}/models`)).json()) as { object: string; data: { id: string }[] };
    expect(list).toMatchObject({ object: 'list', data: [{ id: 'tiny-model', object: 'model' }] });
    expect((await fetch(`${alone.url}/models/tiny-model`)).status).toBe(200);
    expect(await errorOf(await fetch(`${alone.url}/models/gpt-9`))).toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('answers malformed requests with OpenAI-style errors and keeps serving', async () => {
    const cases: [string, unknown, number, string | null, string | null][] = [
      ['/chat/completions', '{"model": "tiny-model", "messages": [', 400, null, 'invalid_json'],
      ['/chat/completions', '[1, 2]', 400, 'body', null],
      ['/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }, 400, 'model', 'missing_required_parameter'],
      ['/chat/completions', { model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] }, 404, 'model', 'model_not_found'],
      ['/chat/completions', { model: 'tiny-model' }, 400, 'messages', 'missing_required_parameter'],
      ['/chat/completions', { model: 'tiny-model', messages: [{ role: 'wizard', content: 'hi' }] }, 400, 'messages[0].role', 'invalid_value'],
      ['/chat/completions', { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' }, 400, 'temperature', 'invalid_type'],
      ['/chat/completions', { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }], temperature: 3 }, 400, 'temperature', 'invalid_value'],
      ['/chat/completions', { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }], top_logprobs: 3 }, 400, 'top_logprobs', 'invalid_value'],
      ['/chat/completions', { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }], n: 2 }, 400, 'n', 'unsupported_value'],
      ['/chat/completions', { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }], stop: ['\n'] }, 400, 'stop', 'unsupported_parameter'],
      ['/completions', { model: 'tiny-model', prompt: 'hi', max_tokens: 100000 }, 400, 'prompt', 'context_length_exceeded'],
      ['/completions', { model: 'tiny-model', prompt: 'hi', max_tokens: 1.5 }, 400, 'max_tokens', 'invalid_type'],
      ['/completions', { model: 'tiny-model', prompt: { text: 'hi' } }, 400, 'prompt', 'invalid_type'],
      ['/completions', { model: 'tiny-model', prompt: [999999] }, 400, 'prompt', 'invalid_value'],
      ['/nothing', { model: 'tiny-model' }, 404, null, 'unknown_url'],
    ];
    for (const [path, body, status, param, code] of cases) {
      const e = await errorOf(await post(alone, path, body));
      expect(e, JSON.stringify(body)).toMatchObject({ status, param, code });
      expect(e.type).toBe('invalid_request_error');
      expect(e.message.length).toBeGreaterThan(0);
    }
    expect((await errorOf(await fetch(`${alone.url}/completions`))).status).toBe(405);
    const ok = await post(alone, '/completions', { model: 'tiny-model', prompt: 'still here', max_tokens: 2, temperature: 0 });
    expect(ok.status).toBe(200);
  });

  it('answers chat and completions with logprobs, token ids, usage, fingerprint and batch size', async () => {
    const res = await post(alone, '/chat/completions', {
      model: 'tiny-model',
      messages: [{ role: 'user', content: 'hello there' }],
      max_tokens: 5,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
      return_token_ids: true,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-detbench-batch-size')).toBe('1');
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'tiny-model',
      system_fingerprint: alone.engine.systemFingerprint,
      detbench: { batch_size: 1, batching: 'off' },
    });
    expect(body.system_fingerprint).toMatch(/^fp_[0-9a-f]{12}$/);
    const choice = body.choices[0];
    expect(choice.finish_reason).toMatch(/^(stop|length)$/);
    expect(choice.token_ids.length).toBe(body.usage.completion_tokens);
    expect(choice.logprobs.content).toHaveLength(choice.token_ids.length);
    for (const step of choice.logprobs.content) {
      expect(step.top_logprobs).toHaveLength(3);
      expect(step.logprob).toBeLessThanOrEqual(0);
      // Greedy: the chosen token is the best candidate.
      expect(step.token).toBe(step.top_logprobs[0].token);
      expect(step.logprob).toBeCloseTo(step.top_logprobs[0].logprob, 9);
    }
    const fp = (await (await post(batched, '/completions', { model: 'tiny-model', prompt: 'x', max_tokens: 1 })).json()) as any;
    expect(fp.system_fingerprint).not.toBe(body.system_fingerprint); // batching config is part of it
  });

  it('streams chat and completions (SSE, [DONE]) with the same tokens as without streaming', async () => {
    for (const [path, input] of [
      ['/chat/completions', { messages: [{ role: 'user', content: 'stream me' }], logprobs: true, top_logprobs: 2 }],
      ['/completions', { prompt: 'stream me', logprobs: 2 }],
    ] as const) {
      const base = { model: 'tiny-model', max_tokens: 6, temperature: 0.8, seed: 11, return_token_ids: true, ...input };
      const whole = (await (await post(alone, path, base)).json()) as any;
      const res = await post(alone, path, { ...base, stream: true, stream_options: { include_usage: true } });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(res.headers.get('x-detbench-batch-size')).toBe('1');
      const data = await events(res);
      expect(data.at(-1)).toBe('[DONE]');
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      const ids = chunks.flatMap((c) => c.choices[0]?.token_ids ?? []);
      const text = chunks.map((c) => c.choices[0]?.delta?.content ?? c.choices[0]?.text ?? '').join('');
      expect(ids).toEqual(whole.choices[0].token_ids);
      expect(text).toBe(whole.choices[0].message?.content ?? whole.choices[0].text);
      expect(chunks.at(-1).usage.completion_tokens).toBe(ids.length);
      expect(chunks.some((c) => c.choices[0]?.finish_reason)).toBe(true);
      expect(chunks.every((c) => c.system_fingerprint === alone.engine.systemFingerprint)).toBe(true);
    }
  });

  it('batches concurrent requests with batching on, and never with batching off', async () => {
    const prompts = ['one', 'two two', 'three three three', 'four'];
    const send = (h: ServeHandle) =>
      Promise.all(prompts.map((p, i) => post(h, '/completions', { model: 'tiny-model', prompt: p, max_tokens: 4, temperature: 0, stream: i % 2 === 0 })));
    const on = await send(batched);
    const onSizes = on.map((r) => Number(r.headers.get('x-detbench-batch-size')));
    expect(Math.max(...onSizes)).toBeGreaterThan(1);
    expect(onSizes.every((s) => s === 4)).toBe(true);
    await Promise.all(on.map((r) => r.text()));
    const off = await send(alone);
    expect(off.map((r) => r.headers.get('x-detbench-batch-size'))).toEqual(['1', '1', '1', '1']);
    await Promise.all(off.map((r) => r.text()));
  });

  it('survives a client that goes away mid-stream', async () => {
    const ac = new AbortController();
    const res = await post(batched, '/completions', { model: 'tiny-model', prompt: 'bye', max_tokens: 40, stream: true }, { signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    const after = await post(batched, '/completions', { model: 'tiny-model', prompt: 'hello again', max_tokens: 2, temperature: 0 });
    expect(after.status).toBe(200);
  });
});
