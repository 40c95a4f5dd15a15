import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Fault, type FaultServer, startFaultServer } from './helpers/fault-server.ts';
import { byPrompt, errored, KEY, KEY_ENV, runInto, tempDir, writeRemoteSuite } from './helpers/remote-suite.ts';

let dir: string;
let server: FaultServer | undefined;

beforeAll(() => {
  dir = tempDir('detbench-remote-secrets-');
  process.env[KEY_ENV] = KEY;
});
afterAll(() => {
  delete process.env[KEY_ENV];
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Every stretch of `encoded` that, decoded at some alignment, gives 6 or more characters of the key. */
function leaksBase64(text: string, alphabet: 'base64' | 'base64url'): boolean {
  for (const run of text.match(/[A-Za-z0-9+/_-]{8,}/g) ?? []) {
    for (let start = 0; start < 4; start++) {
      const decoded = Buffer.from(run.slice(start), alphabet).toString('latin1');
      for (let i = 0; i + 6 <= KEY.length; i++) if (decoded.includes(KEY.slice(i, i + 6))) return true;
    }
  }
  return false;
}

/** The 6-character pieces of the key (any of them in an artifact is a leak). */
const pieces = Array.from({ length: KEY.length - 5 }, (_, i) => KEY.slice(i, i + 6));

describe('remote-api: no fragment of the key in any record', () => {
  it('redacts before it shortens, and redacts the base64, base64url and Basic forms', async () => {
    // 'bad credentials: Bearer ' is 24 characters: pad 471 starts the key at 495, across the 500-character cut.
    const faults: Record<string, Fault> = {
      straddle: { kind: 'echo-auth', status: 401, pad: 471 },
      textcut: { kind: 'echo-auth', status: 401, pad: 471, json: false },
      // A 200 that is not JSON is quoted to 200 characters: the key starts at 195.
      garbage: { kind: 'echo-auth', status: 200, pad: 171, json: false },
      b64: { kind: 'echo-auth', status: 401, form: 'base64' },
      b64url: { kind: 'echo-auth', status: 401, form: 'base64url' },
      basic: { kind: 'echo-auth', status: 401, form: 'basic' },
    };
    server = await startFaultServer((req) => faults[req.prompt] ?? { kind: 'ok' });
    const name = 'redact';
    const records = await runInto(
      dir,
      name,
      writeRemoteSuite(dir, server.url, name, Object.keys(faults), { stream: false, concurrency: 8 }, ['batch_sizes: 6']),
    );
    const message = (id: string) => errored(byPrompt(records, id)[0]).error.message;
    // The cut falls inside the marker now, not inside the key.
    for (const id of ['straddle', 'textcut']) {
      expect(message(id)).toMatch(/^POST \/v1\/chat\/completions: HTTP 401 Unauthorized: \.{471}bad credentials: Bearer \[REDA…$/);
    }
    expect(message('garbage')).toMatch(/^POST \/v1\/chat\/completions: the response is not JSON: \.{171}bad credentials: Bearer \[REDA…$/);
    for (const id of ['b64', 'b64url', 'basic']) expect(message(id)).toContain('[REDACTED]');
    const file = readFileSync(join(dir, name, 'results.jsonl'), 'utf8');
    // The detector finds what the server sent (so its silence below means something).
    expect(leaksBase64(`Basic ${Buffer.from(`api:${KEY}`).toString('base64')}`, 'base64')).toBe(true);
    expect(leaksBase64(Buffer.from(`xy${KEY}`).toString('base64url'), 'base64url')).toBe(true);
    for (const p of pieces) expect(file).not.toContain(p);
    expect(leaksBase64(file, 'base64')).toBe(false);
    expect(leaksBase64(file, 'base64url')).toBe(false);
  });
});

describe('remote-api: credentials in base_url', () => {
  const cli = (suite: string, out: string) =>
    spawnSync(process.execPath, [resolve('bin/detbench.mjs'), 'run', suite, '-o', out, '--report', join(out, 'report')], {
      encoding: 'utf8',
      env: { ...process.env },
    });

  it('refuses a suite with user:password@ in base_url (options or matrix) at load, exit 2, naming the field and not the credential', async () => {
    server = await startFaultServer(() => ({ kind: 'ok' }));
    const port = new URL(server.url).port;
    const cases = {
      options: {
        runner: `  - { id: api, type: remote-api, options: { base_url: "http://user:${KEY}@127.0.0.1:${port}/v1", model: m } }`,
        field: 'runners[0].options.base_url',
        line: 5,
      },
      keyonly: {
        runner: `  - { id: api, type: remote-api, options: { base_url: "http://${KEY}@127.0.0.1:${port}/v1", model: m } }`,
        field: 'runners[0].options.base_url',
        line: 5,
      },
      matrix: {
        runner: `  - id: api\n    type: remote-api\n    options: { model: m }\n    matrix: { base_url: ["http://user:${KEY}@127.0.0.1:${port}/v1"] }`,
        field: 'runners[0].matrix.base_url[0]',
        line: 8,
      },
      second: {
        runner: `  - id: api\n    type: remote-api\n    options: { model: m }\n    matrix: { base_url: ["http://127.0.0.1:${port}/v1", "http://user:${KEY}@127.0.0.1:${port}/v1"] }`,
        field: 'runners[0].matrix.base_url[1]',
        line: 8,
      },
    };
    for (const [name, c] of Object.entries(cases)) {
      const suite = join(dir, `url-${name}.yaml`);
      writeFileSync(suite, ['id: creds', 'prompts:', '  - { id: p, text: hi }', 'runners:', c.runner].join('\n'));
      const out = join(dir, `url-${name}`);
      const r = cli(suite, out);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${suite}:${c.line}: ${c.field}: must not contain a user name or password`);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
      for (const text of [r.stderr, r.stdout]) for (const p of pieces) expect(text).not.toContain(p);
      // Nothing was written: no results, no report.
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    }
    expect(server.requests).toHaveLength(0);
  });
});
