import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runSuite } from '../../api/index.ts';
import { readResults } from '../../src/results/read.ts';
import type { CompletedRecord, ErroredRecord, ResultRecord } from '../../src/results/record.ts';
import type { Fault, SeenRequest } from './fault-server.ts';

/** The environment variable and the key the remote tests run with. */
export const KEY_ENV = 'DETBENCH_TEST_REMOTE_KEY';
export const KEY = 'sk-test-5ecret-Zq9';

/** A temporary folder for one test file's suites and results. */
export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/**
 * Writes a one-runner remote-api suite against `baseUrl` (fast retries by default; `options`
 * override them) and returns its path.
 */
export function writeRemoteSuite(
  dir: string,
  baseUrl: string,
  name: string,
  prompts: string[],
  options: Record<string, unknown> = {},
  extra: string[] = [],
): string {
  const file = join(dir, `${name}.yaml`);
  const opts = { base_url: baseUrl, model: 'fault-model', api_key_env: KEY_ENV, retry_base_ms: 1, retry_max_ms: 5, timeout_ms: 5000, ...options };
  writeFileSync(
    file,
    [
      `id: ${name}`,
      'prompts:',
      ...prompts.map((p) => `  - { id: ${p}, text: "${p}" }`),
      'max_new_tokens: 8',
      'repetitions: 1',
      'top_logprobs: 2',
      'teacher_forcing: false',
      ...extra,
      'runners:',
      `  - { id: api, type: remote-api, options: ${JSON.stringify(opts)} }`,
    ].join('\n'),
  );
  return file;
}

/** Runs a suite into `<dir>/<name>/results.jsonl` and reads the records back. */
export async function runInto(dir: string, name: string, suiteFile: string, resume = false): Promise<ResultRecord[]> {
  const out = join(dir, name, 'results.jsonl');
  await runSuite({ suiteFile, outFile: out, resume });
  return readResults(out);
}

export const byPrompt = (records: ResultRecord[], id: string) => records.filter((r) => r.prompt.id === id);
export const completed = (r: ResultRecord | undefined) => {
  expect(r?.status, JSON.stringify(r)).toBe('completed');
  return r as CompletedRecord;
};
export const errored = (r: ResultRecord | undefined) => {
  expect(r?.status, JSON.stringify(r)).toBe('errored');
  return r as ErroredRecord;
};
/** Fails the first `n` attempts of each prompt with `fault`, then answers. */
export const failFirst =
  (n: number, fault: Fault) =>
  (req: SeenRequest): Fault =>
    req.attempt <= n ? fault : { kind: 'ok' };
