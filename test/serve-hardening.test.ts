import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNERS } from '../runners/index.ts';
import { type ServeHandle, startServe } from '../src/serve/server.ts';
import { answer, post } from './helpers/serve-client.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let h: ServeHandle;
const logs: string[] = [];
/** Byte length of every text the tokenizer was given. */
const encoded: number[] = [];

beforeAll(async () => {
  h = await startServe({
    runners: RUNNERS,
    modelDir: await tinyModelDir(),
    runner: 'node-cpu',
    batching: { maxBatch: 8, windowMs: 0 },
    log: (l) => logs.push(l),
  });
  const tok = h.engine.model.tokenizer;
  const encode = tok.encode.bind(tok);
  tok.encode = (text, opts) => {
    encoded.push(Buffer.byteLength(text));
    return encode(text, opts);
  };
});
afterAll(async () => h?.close());

const noStacks = () => {
  expect(logs.filter((l) => /internal error|\n\s+at /.test(l))).toEqual([]);
};

describe('detbench serve: hostile clients (#10 items 16-18)', () => {
  it('a model name that is not valid percent-encoding is a 404, not a 500', async () => {
    const res = await fetch(`${h.url}/models/%E0%A4%A`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error).toMatchObject({ code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
    noStacks();
  });

  it('prompts longer than the context can hold are refused before they are tokenized, and a small request is served meanwhile', async () => {
    const huge = 'pad '.repeat(500_000); // 2 MB
    encoded.length = 0;
    const big = [0, 1, 2, 3].map((i) =>
      i % 2
        ? post(h, '/chat/completions', { model: 'tiny-model', messages: [{ role: 'user', content: huge }], max_tokens: 1 })
        : post(h, '/completions', { model: 'tiny-model', prompt: huge, max_tokens: 1 }),
    );
    const small = post(h, '/completions', { model: 'tiny-model', prompt: 'hi', max_tokens: 1, temperature: 0, return_token_ids: true });
    for (const res of await Promise.all(big)) {
      expect(res.status).toBe(400);
      const err = ((await res.json()) as any).error;
      expect(err.code).toBe('context_length_exceeded');
      expect(err.message).toMatch(/maximum context length is \d+ tokens.*2000000 bytes/);
    }
    const ok = await answer(await small);
    expect(ok.status).toBe(200);
    expect(ok.tokenIds).toHaveLength(1);
    expect(Math.max(...encoded)).toBeLessThanOrEqual(h.engine.promptByteLimit);
    expect(h.engine.promptByteLimit).toBe(
      h.engine.model.config.maxPositions *
        Math.max(...Array.from({ length: h.engine.model.tokenizer.vocabSize }, (_, id) => Buffer.byteLength(h.engine.model.tokenizer.tokenText(id)))),
    );
  });

  it('a client that aborts while sending its body, or mid-stream, is a normal event: one log line, no stack', async () => {
    logs.length = 0;
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port: h.port,
        path: '/v1/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': 1000 },
      });
      req.on('error', () => resolve());
      req.write('{"model": "tiny-model", "prompt": "');
      setTimeout(() => {
        req.destroy();
        setTimeout(resolve, 200);
      }, 100);
    });
    const ac = new AbortController();
    await answer(await post(h, '/completions', { model: 'tiny-model', prompt: 'bye', max_tokens: 200, stream: true }, { signal: ac.signal }), (i) => {
      if (i === 1) ac.abort();
    });
    const ok = await post(h, '/completions', { model: 'tiny-model', prompt: 'still here', max_tokens: 2 });
    expect(ok.status).toBe(200);
    noStacks();
    expect(logs).toContain('client went away while sending its request');
    expect(logs).toContain('client went away: its request left the batch');
  });
});
