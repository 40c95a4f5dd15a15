import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { StepEvent } from '../src/decode/loop.ts';
import type { DecodeResult } from '../src/decode/types.ts';
import type { TextTokenizer } from '../src/model/types.ts';
import { parseRequest } from '../src/serve/protocol.ts';
import { Responder } from '../src/serve/respond.ts';

const EOS = 9;
/** Ids 1 and 2 are the two bytes of "é": alone, 1 prints as U+FFFD, as byte-level BPE tokens do. */
const tokenizer: TextTokenizer = {
  vocabSize: 10,
  encode: () => [1],
  tokenText: (id) => (id === EOS ? '<eos>' : id === 1 ? '\uFFFD' : id === 2 ? '\uFFFD' : `t${id}`),
  decode(ids) {
    if (ids.length === 0) throw new Error('token_ids must be a non-empty array of integers.');
    return ids
      .map((id, i) => (id === 1 ? (ids[i + 1] === 2 ? 'é' : '\uFFFD') : id === 2 ? (ids[i - 1] === 1 ? '' : '\uFFFD') : id === EOS ? '<eos>' : `t${id}`))
      .join('');
  },
};

function fakeResponse() {
  const out = { status: 0, headers: {} as Record<string, string>, body: '' };
  const res = {
    headersSent: false,
    destroyed: false,
    writableEnded: false,
    writeHead(status: number, headers: Record<string, string>) {
      out.status = status;
      out.headers = headers;
      this.headersSent = true;
    },
    write(s: string) {
      out.body += s;
    },
    end(s = '') {
      out.body += s;
      this.writableEnded = true;
    },
  };
  return { res: res as unknown as ServerResponse, out };
}

function step(row: number, token: number, i: number): StepEvent {
  const logits = new Float32Array(10).fill(0);
  logits[token] = 2;
  const lse = Math.log(9 + Math.exp(2)); // nine logits of 0, one of 2
  return { row, step: i, token, logits, summary: { ids: [token], logits: [2], logprobs: [2 - lse], margin: 2, hash: '0' } };
}

const result = (tokens: number[], finishReason: DecodeResult['finishReason']): DecodeResult => ({
  tokens,
  finishReason,
  steps: {} as DecodeResult['steps'],
  timings: {} as DecodeResult['timings'],
  batch: { size: 1, index: 0 },
});

function respond(body: Record<string, unknown>, endpoint: 'chat' | 'completions', tokens: number[], finish: DecodeResult['finishReason']) {
  const { res, out } = fakeResponse();
  const req = parseRequest({ model: 'm', ...body }, endpoint);
  const r = new Responder({ req, modelName: 'm', systemFingerprint: 'fp_x', tokenizer, stopIds: [EOS], promptIds: [1], seed: null, batching: 'off' }, res);
  r.start(1, 0, 0);
  for (const [i, t] of tokens.entries()) r.step(step(0, t, i), 1);
  r.finish(result(tokens, finish));
  return out;
}

describe('serve responses', () => {
  it('a completion whose first token stops has empty text, and keeps the stop token in ids and logprobs', () => {
    const out = respond({ prompt: 'x', logprobs: 1, return_token_ids: true }, 'completions', [EOS], 'stop');
    expect(out.status).toBe(200);
    const body = JSON.parse(out.body);
    expect(body.choices[0]).toMatchObject({ text: '', token_ids: [EOS], finish_reason: 'stop', logprobs: { tokens: ['<eos>'] } });
    expect(body.usage.completion_tokens).toBe(1);
  });

  it('streams hold back an incomplete UTF-8 character until its last byte, and leave the stop token out of the text', () => {
    const out = respond({ messages: [{ role: 'user', content: 'x' }], stream: true }, 'chat', [3, 1, 2, EOS], 'stop');
    const chunks = out.body
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)));
    const deltas = chunks.map((c) => c.choices[0].delta.content ?? null);
    expect(deltas).toEqual(['', 't3', '', 'é', '', null]);
    expect(out.body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(out.headers['x-detbench-batch-size']).toBe('1');
  });

  it('without log-probabilities only the hash is read: the summary is never computed', () => {
    const { res, out } = fakeResponse();
    const req = parseRequest({ model: 'm', prompt: 'x' }, 'completions');
    const r = new Responder(
      { req, modelName: 'm', systemFingerprint: 'fp_x', tokenizer, stopIds: [EOS], promptIds: [1], seed: null, batching: 'continuous' },
      res,
    );
    r.start(2, null, 0);
    const lazy = (token: number, hash: string) => ({
      token,
      logits: new Float32Array(10),
      hash,
      get summary(): never {
        throw new Error('summary read');
      },
    });
    r.step(lazy(3, 'aa'), 2);
    r.step(lazy(4, 'bb'), 1);
    r.finish({ finishReason: 'length' });
    const body = JSON.parse(out.body);
    expect(body.choices[0]).toMatchObject({ text: 't3t4', logprobs: null, finish_reason: 'length' });
    expect(body.detbench).toMatchObject({ batch_sizes: [2, 1], step_hashes: ['aa', 'bb'] });
  });
});
