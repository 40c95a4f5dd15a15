import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

/**
 * The corpus of malformed suites: every `test/fixtures/bad-suites/*.yaml` is run through
 * `detbench run` and must exit with its code, print every expected fragment, print no stack and
 * write no record. A case states what it expects in the comment block that
 * closes the file (so its own line numbers stay as written):
 *
 *   # exit: 2                      the exit code
 *   # expect: {file}:8: runners... a fragment of stderr ({file}: the suite path passed, {dir}: its folder)
 *   # args: --max-cells 10         extra arguments to `detbench run`
 *   # setup: results-folder        a folder where <out>/results.jsonl goes
 *   # model: no-chat-template      a variant of the tiny model under test/.cache/bad-suites/
 *   # spawn: 256                   run `bin/detbench.mjs` in a child process with this heap (MB)
 *
 * Cases run in-process through the CLI's `main()`; only a case whose failure mode is running the
 * heap out is spawned, so that a regression fails that one case instead of the test worker.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = join(ROOT, 'test/fixtures/bad-suites');
const CASES = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

interface Expectation {
  exit: number;
  fragments: string[];
  args: string[];
  setup?: 'results-folder';
  model?: keyof typeof MODEL_VARIANTS;
  spawnHeapMb?: number;
}

/** Variants of the tiny model, made by patching its tokenizer_config.json. */
const MODEL_VARIANTS = {
  'no-chat-template': (c: Record<string, unknown>) => void delete c.chat_template,
  'broken-chat-template': (c: Record<string, unknown>) => {
    c.chat_template = '{% for message in messages %}{{ message.content ';
  },
  'raising-chat-template': (c: Record<string, unknown>) => {
    c.chat_template =
      "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system prompt, please') }}{% endif %}{{ m.content }}{% endfor %}";
  },
};

function expectation(file: string): Expectation {
  const text = readFileSync(join(DIR, file), 'utf8');
  const marker = text.lastIndexOf('# --- expected');
  if (marker < 0) throw new Error(`${file}: no "# --- expected" block`);
  const e: Expectation = { exit: NaN, fragments: [], args: [] };
  for (const line of text.slice(marker).split('\n').slice(1)) {
    const m = /^# (\w+): (.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'exit') e.exit = Number(value);
    else if (key === 'expect') e.fragments.push(value);
    else if (key === 'args') e.args = value.split(' ');
    else if (key === 'setup') e.setup = value as 'results-folder';
    else if (key === 'model') e.model = value as keyof typeof MODEL_VARIANTS;
    else if (key === 'spawn') e.spawnHeapMb = Number(value);
    else throw new Error(`${file}: unknown expectation "${key}"`);
  }
  if (!Number.isInteger(e.exit) || e.fragments.length === 0) throw new Error(`${file}: needs "# exit:" and at least one "# expect:"`);
  return e;
}

/** Runs the CLI in-process with stdout and stderr captured. */
async function cliInProcess(args: string[]): Promise<{ exit: number; out: string; err: string }> {
  const { code, out, err } = await cli(...args);
  return { exit: code, out, err };
}

function cliSpawned(args: string[], heapMb: number): { exit: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, join(ROOT, 'bin/detbench.mjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CI: '1' },
  });
  return { exit: r.status ?? -1, out: r.stdout, err: r.stderr + (r.signal ? `\n(killed by ${r.signal})` : '') };
}

let outRoot: string;

beforeAll(async () => {
  outRoot = mkdtempSync(join(tmpdir(), 'detbench-bad-suites-'));
  const tiny = await tinyModelDir();
  for (const [name, patch] of Object.entries(MODEL_VARIANTS)) {
    const dir = join(ROOT, 'test/.cache/bad-suites', name);
    rmSync(dir, { recursive: true, force: true });
    cpSync(tiny, dir, { recursive: true });
    const configFile = join(dir, 'tokenizer_config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    patch(config);
    writeFileSync(configFile, JSON.stringify(config));
  }
});

describe('the bad-suite corpus (test/fixtures/bad-suites)', () => {
  it('holds at least 60 cases, each with its expectations', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    for (const c of CASES) expect(() => expectation(c)).not.toThrow();
  });

  it.each(CASES)('%s', async (name) => {
    const e = expectation(name);
    const file = relative(process.cwd(), join(DIR, name));
    const out = join(outRoot, name.replace(/\.yaml$/, ''));
    if (e.setup === 'results-folder') mkdirSync(join(out, 'results.jsonl'), { recursive: true });
    const args = ['run', file, '-o', out, ...e.args];
    const r = e.spawnHeapMb ? cliSpawned(args, e.spawnHeapMb) : await cliInProcess(args);

    expect(r.err, 'stderr').not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(r.err, 'stderr').not.toContain('internal error');
    expect(r.exit, r.err).toBe(e.exit);
    expect(r.err).toMatch(/^detbench: /);
    for (const fragment of e.fragments) {
      expect(r.err).toContain(fragment.replaceAll('{file}', file).replaceAll('{dir}', relative(process.cwd(), DIR)));
    }
    expect(r.out).toBe('');
    // Bad input is refused before anything is written.
    const results = join(out, 'results.jsonl');
    if (e.setup === 'results-folder') expect(statSync(results).isDirectory()).toBe(true);
    else expect(existsSync(results)).toBe(false);
  });
});
