// suites/openai-temperature-0.yaml runs as shipped: without OPENAI_API_KEY every cell is skipped
// with the reason, and nothing is sent.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { readResults } from '../src/results/read.ts';

it('openai-temperature-0: skipped, with the reason, when OPENAI_API_KEY is absent', async () => {
  const saved = process.env.OPENAI_API_KEY;
  delete process.env.OPENAI_API_KEY;
  try {
    const out = join(mkdtempSync(join(tmpdir(), 'detbench-openai-')), 'r.jsonl');
    const summary = await runSuite({ suiteFile: 'suites/openai-temperature-0.yaml', outFile: out });
    expect(summary).toMatchObject({ completed: 0, errored: 0, skipped: 40 });
    for (const r of readResults(out)) {
      expect(r.status).toBe('skipped');
      if (r.status === 'skipped') expect(r.reason).toMatch(/^environment variable OPENAI_API_KEY \(api_key_env\) is not set/);
    }
  } finally {
    if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
  }
});
