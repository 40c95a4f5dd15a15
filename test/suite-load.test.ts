import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite } from '../api/index.ts';
import { expandCells, expandRunners, expandSettings } from '../src/suite/expand.ts';
import { detbenchError } from './helpers/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'detbench-suite-'));
function suiteFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('loadSuite', () => {
  it('loads the shipped suites', () => {
    for (const name of ['default', 'smoke']) {
      const suite = loadSuite(new URL(`../suites/${name}.yaml`, import.meta.url).pathname);
      expect(suite.id).toBe(name);
      expect(suite.resolvedPrompts.length).toBeGreaterThan(0);
    }
  });

  it('names file, line and field of an invalid value', () => {
    const file = suiteFile(
      'bad-value.yaml',
      ['id: s', 'prompts:', '  - text: hi', 'max_new_tokens: -3', 'runners:', '  - id: a', '    type: node-cpu'].join('\n'),
    );
    const err = detbenchError(() => loadSuite(file));
    expect(err.code).toBe('SUITE_INVALID');
    expect(err.line).toBe(4);
    expect(err.field).toBe('max_new_tokens');
    expect(err.message).toContain(`${file}:4: max_new_tokens:`);
  });

  it('rejects an unknown runner type and an unknown runner option with their lines', () => {
    const file = suiteFile(
      'bad-runner.yaml',
      [
        'id: s',
        'prompts:',
        '  - text: hi',
        'runners:',
        '  - id: a',
        '    type: node-tpu',
        '  - id: b',
        '    type: node-cpu',
        '    options:',
        '      threads_please: 4',
      ].join('\n'),
    );
    const err = detbenchError(() => loadSuite(file));
    expect(err.message).toMatch(/:6: runners\[0\]\.type:/);
    expect(err.message).toMatch(/:10: runners\[1\]\.options/);
    expect(err.message).toContain('threads_please');
  });

  it('reports YAML syntax errors with a line', () => {
    const file = suiteFile('bad-yaml.yaml', 'id: s\nprompts: [\n  - text: "unclosed\n');
    const err = detbenchError(() => loadSuite(file));
    expect(err.code).toBe('SUITE_YAML');
    expect(err.message).toMatch(/bad-yaml\.yaml:\d+: invalid YAML/);
  });

  it('reports a missing suite file and a missing prompt file', () => {
    expect(detbenchError(() => loadSuite(join(dir, 'nope.yaml'))).code).toBe('SUITE_NOT_FOUND');
    const file = suiteFile('bad-prompts.yaml', 'id: s\nprompts:\n  - file: missing.txt\nrunners:\n  - id: a\n    type: node-cpu\n');
    const err = detbenchError(() => loadSuite(file));
    expect(err.message).toContain(':3: prompts[0].file: cannot read missing.txt');
  });

  it('rejects a reference that is not a runner', () => {
    const file = suiteFile('bad-ref.yaml', 'id: s\nprompts:\n  - text: hi\nreference: zz\nrunners:\n  - id: a\n    type: node-cpu\n');
    expect(detbenchError(() => loadSuite(file)).message).toContain(':4: reference: reference "zz" is not a runner id');
  });
});

describe('grid expansion', () => {
  it('expands settings, matrix runners, prompt files and cells', () => {
    writeFileSync(join(dir, 'prompts.txt'), '# comment\nfirst prompt\n\nsecond prompt\n');
    const file = suiteFile(
      'grid.yaml',
      [
        'id: grid',
        'prompts:',
        '  - { id: inline, text: "hello" }',
        '  - file: prompts.txt',
        'decoding: { greedy: true, temperature: [0, 0.7], top_k: [0, 5], seed: [1, 2] }',
        'repetitions: 2',
        'batch_sizes: [1, 2]',
        'runners:',
        '  - id: cpu',
        '    type: node-cpu',
        '    matrix: { intra_op_threads: [1, 2] }',
        '  - id: slow',
        '    type: node-cpu',
        '    repetitions: 1',
      ].join('\n'),
    );
    const suite = loadSuite(file);
    expect(suite.resolvedPrompts.map((p) => p.id)).toEqual(['inline', 'prompts-1', 'prompts-2']);
    const settings = expandSettings(suite);
    // temperature 0 folds into the single greedy setting.
    expect(settings.map((s) => s.id)).toEqual(['greedy', 't0.7-k0-p1-s1', 't0.7-k0-p1-s2', 't0.7-k5-p1-s1', 't0.7-k5-p1-s2']);
    const runners = expandRunners(suite);
    expect(runners.map((r) => r.id)).toEqual(['cpu[intra_op_threads=1]', 'cpu[intra_op_threads=2]', 'slow']);
    expect(runners[0]!.options).toMatchObject({ intra_op_threads: 1, graph_optimization: 'all' });
    // No precision given: the model folder's own default (transformers.js_config.dtype, else fp32) decides at load.
    expect(runners[0]!.options).not.toHaveProperty('precision');
    const cells = expandCells(suite, runners, settings);
    // 3 prompts x 5 settings x 2 batch sizes x (2 + 2 + 1) repetitions
    expect(cells).toHaveLength(3 * 5 * 2 * 5);
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
    expect(cells[0]!.id).toBe('grid/inline/greedy/cpu[intra_op_threads=1]/b1/r0');
  });
});
