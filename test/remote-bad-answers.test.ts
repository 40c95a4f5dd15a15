import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../src/results/record.ts';
import { expectedTokens, type Fault, type FaultServer, startFaultServer } from './helpers/fault-server.ts';
import { byPrompt, completed, errored, KEY, KEY_ENV, runInto, tempDir, writeRemoteSuite } from './helpers/remote-suite.ts';

let dir: string;
const servers: FaultServer[] = [];

beforeAll(() => {
  dir = tempDir('detbench-remote-bad-');
  process.env[KEY_ENV] = KEY;
});
afterAll(() => {
  delete process.env[KEY_ENV];
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(plan: (prompt: string) => Fault): Promise<FaultServer> {
  const s = await startFaultServer((req) => plan(req.prompt));
  servers.push(s);
  return s;
}

/** Runs one suite whose prompts name their faults, and returns the records by prompt. */
async function runFaults(
  name: string,
  faults: Record<string, Fault>,
  options: Record<string, unknown> = {},
): Promise<{ server: FaultServer; get: (id: string) => ResultRecord | undefined }> {
  const server = await serve((p) => faults[p] ?? { kind: 'ok' });
  const records = await runInto(
    dir,
    name,
    writeRemoteSuite(dir, server.url, name, Object.keys(faults), { concurrency: 8, max_retries: 2, ...options }, [
      `batch_sizes: ${Object.keys(faults).length}`,
    ]),
  );
  return { server, get: (id) => byPrompt(records, id)[0] };
}

/** The message of an errored record, which must be REMOTE_BAD_RESPONSE (and not retried). */
function badResponse(r: ResultRecord | undefined): string {
  const e = errored(r);
  expect(e.error.code, e.error.message).toBe('REMOTE_BAD_RESPONSE');
  return e.error.message;
}

// Chunk numbers of the fault server's streams: 0..2 carry a token each, 3 the finish, 4 the usage.
const setLogprob =
  (value: unknown, step = 1) =>
  (o: Record<string, any>) => {
    const entry = o.choices[0]?.logprobs?.content?.[step];
    if (entry) entry.logprob = value;
  };

describe('remote-api: malformed answers become errored records naming the field', () => {
  it('chat, not streamed: empty choices, content 42, logprob null, "NaN", 1e999, a bad candidate, token ids', async () => {
    const { server, get } = await runFaults(
      'chat-whole',
      {
        empty: { kind: 'edit', edit: (o) => (o.choices = []) },
        number: { kind: 'edit', edit: (o) => (o.choices[0].message.content = 42) },
        nolp: { kind: 'edit', edit: setLogprob(null) },
        nanlp: { kind: 'edit', edit: setLogprob('NaN') },
        inflp: { kind: 'edit', edit: setLogprob('__inf__'), text: (j) => j.replace('"__inf__"', '1e999') },
        toplp: { kind: 'edit', edit: (o) => (o.choices[0].logprobs.content[2].top_logprobs[1].logprob = null) },
        ids: { kind: 'edit', edit: (o) => (o.choices[0].token_ids = [1, -2]) },
        nomsg: { kind: 'edit', edit: (o) => delete o.choices[0].message },
        good: { kind: 'ok' },
      },
      { stream: false },
    );
    expect(badResponse(get('empty'))).toBe('POST /v1/chat/completions: choices: expected a choice with index 0, got []');
    expect(badResponse(get('number'))).toContain('choices[0].message.content: expected a string or null, got 42');
    expect(badResponse(get('nolp'))).toContain('choices[0].logprobs.content[1].logprob: expected a finite number, got null');
    expect(badResponse(get('nanlp'))).toContain('choices[0].logprobs.content[1].logprob: expected a finite number, got "NaN"');
    expect(badResponse(get('inflp'))).toContain('choices[0].logprobs.content[1].logprob: expected a finite number, got Infinity');
    expect(badResponse(get('toplp'))).toContain('choices[0].logprobs.content[2].top_logprobs[1].logprob: expected a finite number, got null');
    expect(badResponse(get('ids'))).toContain('choices[0].token_ids[1]: expected an integer >= 0, got -2');
    expect(badResponse(get('nomsg'))).toContain('choices[0].message: expected an object, got nothing (the field is missing)');
    completed(get('good'));
    // A malformed answer is not retried: the server would send the same again.
    for (const p of ['empty', 'number', 'nolp', 'inflp']) expect(server.attempts(p)).toBe(1);
  });

  it('chat streamed: the event is named; a stream in which no event has choice 0 is errored too', async () => {
    const { get } = await runFaults('chat-stream', {
      nolp: { kind: 'edit', edit: (o, n) => n === 2 && setLogprob(null, 0)(o) },
      noone: { kind: 'edit', edit: (o) => (o.choices = []) },
      delta: {
        kind: 'edit',
        edit: (o, n) => {
          if (n === 1) o.choices[0].delta.content = ['a'];
        },
      },
      good: { kind: 'ok' },
    });
    expect(badResponse(get('nolp'))).toBe(
      'POST /v1/chat/completions: choices[0].logprobs.content[0].logprob: expected a finite number, got null (stream event 3)',
    );
    expect(badResponse(get('noone'))).toContain('choices: none of the 5 stream events had a choice with index 0');
    expect(badResponse(get('delta'))).toContain('choices[0].delta.content: expected a string or null, got an array of 1 (stream event 2)');
    expect(completed(get('good')).tokenTexts).toEqual(expectedTokens('good'));
  });

  it('completions, whole and streamed: token_logprobs null or short, text missing, a candidate not finite', async () => {
    const faults: Record<string, Fault> = {
      nolp: {
        kind: 'edit',
        edit: (o) => {
          if (o.choices[0]?.logprobs) o.choices[0].logprobs.token_logprobs[0] = null;
        },
      },
      short: { kind: 'edit', edit: (o) => o.choices[0]?.logprobs?.token_logprobs.pop() },
      notext: { kind: 'edit', edit: (o) => o.choices[0] && delete o.choices[0].text },
      top: {
        kind: 'edit',
        edit: (o) => {
          if (o.choices[0]?.logprobs) o.choices[0].logprobs.top_logprobs[0] = { ' top': '__inf__' };
        },
        text: (j) => j.replace('"__inf__"', '-1e999'),
      },
      good: { kind: 'ok' },
    };
    for (const stream of [false, true]) {
      const { get } = await runFaults(`completions-${stream}`, faults, { endpoint: 'completions', stream });
      const at = stream ? ' (stream event 1)' : '';
      expect(badResponse(get('nolp'))).toBe(`POST /v1/completions: choices[0].logprobs.token_logprobs[0]: expected a finite number, got null${at}`);
      expect(badResponse(get('short'))).toContain(
        `choices[0].logprobs.token_logprobs: expected one entry per token (${stream ? 1 : 3}), got ${stream ? 0 : 2}${at}`,
      );
      expect(badResponse(get('notext'))).toContain(`choices[0].text: expected a string, got nothing (the field is missing)${at}`);
      expect(badResponse(get('top'))).toContain(`choices[0].logprobs.top_logprobs[0][" top"]: expected a finite number, got -Infinity${at}`);
      expect(completed(get('good')).steps.topLogprobs[0]).toEqual([-0.1, -1.1]);
    }
  });
});

describe('remote-api: response size cap', () => {
  it('errors an answer past max_response_bytes and stops reading it, streamed or not', async () => {
    const big = 'x'.repeat(300_000);
    const { server, get } = await runFaults(
      'cap',
      {
        bigjson: {
          kind: 'edit',
          edit: (o) => {
            const m = o.choices[0] && (o.choices[0].message ?? o.choices[0].delta);
            if (m && m.content !== undefined) m.content = big;
          },
        },
        endless: { kind: 'flood', as: 'one-event' },
        events: { kind: 'flood', as: 'many-events' },
        jsonflood: { kind: 'flood', as: 'json' },
        announced: { kind: 'announce', bytes: 52_000_000 },
        good: { kind: 'ok' },
      },
      { max_response_bytes: 256 * 1024, timeout_ms: 10_000 },
    );
    for (const id of ['bigjson', 'endless', 'events', 'jsonflood']) {
      const e = errored(get(id));
      expect(e.error.code, id).toBe('REMOTE_RESPONSE_TOO_LARGE');
      expect(e.error.message).toBe('POST /v1/chat/completions: the response is larger than max_response_bytes (262144 bytes)');
      expect(server.attempts(id)).toBe(1);
    }
    // A Content-Length past the cap is refused before any of the body is read (the server never sends it).
    expect(errored(get('announced')).error.message).toContain('larger than max_response_bytes (262144 bytes) (Content-Length 52000000)');
    // The client hung up soon after the cap: the floods wrote far less than they would have in the 10 s timeout.
    expect(server.floodedBytes()).toBeLessThan(3 * 16 * 1024 * 1024);
    completed(get('good'));
  });

  it('parses one large stream event whole under the default cap (16 MiB)', async () => {
    const big = 'y'.repeat(8 * 1024 * 1024);
    const server = await serve(() => ({
      kind: 'edit',
      edit: (o, n) => {
        if (n === 0) o.choices[0].delta.content = big;
      },
    }));
    const records = await runInto(dir, 'one-big-event', writeRemoteSuite(dir, server.url, 'one-big-event', ['p'], { max_top_logprobs: 0, timeout_ms: 30_000 }));
    const r = completed(records[0]);
    expect(r.text).toBe(`${big}-ok`);
  });
});

describe('remote-api: redirects are reported, not followed', () => {
  it('a 307 to another server and a 302 become errored records naming the status and the Location, without its query', async () => {
    const other = await serve(() => ({ kind: 'ok' }));
    const { server, get } = await runFaults('redirect', {
      temp: { kind: 'redirect', status: 307, location: `${other.url}/chat/completions?api_key=${KEY}&x=1` },
      found: { kind: 'redirect', status: 302, location: '/elsewhere' },
      leaky: { kind: 'redirect', status: 301, location: `http://user:${KEY}@127.0.0.1:9/${KEY}/v1` },
    });
    const temp = errored(get('temp'));
    expect(temp.error.code).toBe('REMOTE_REDIRECT');
    expect(temp.error.message).toBe(
      `POST /v1/chat/completions: HTTP 307 Temporary Redirect: redirects are not followed (Location: ${other.url}/chat/completions?…); set base_url to the final address`,
    );
    expect(errored(get('found')).error.message).toContain(`HTTP 302 Found: redirects are not followed (Location: ${new URL(server.url).origin}/elsewhere)`);
    expect(errored(get('leaky')).error.message).toContain('(Location: http://127.0.0.1:9/[REDACTED]/v1)');
    expect(other.requests).toHaveLength(0);
    expect(server.attempts('temp')).toBe(1);
  });
});
