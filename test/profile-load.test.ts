import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../api/index.ts';
import { RUNNERS } from '../runners/index.ts';
import { detectFingerprint } from '../src/env/fingerprint.ts';
import { loadProfile, recordProfile, resolveProfile, runProfile } from '../src/env/profile.ts';
import { readResults } from '../src/results/read.ts';
import { detbenchError } from './helpers/errors.ts';
import { tinyModelDir } from './helpers/tiny-model.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'detbench-profiles-'));
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('hardware profile files', () => {
  it('ships profiles that validate, each named after its id', () => {
    const files = readdirSync('hardware-profiles').filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['ci-2core.yaml', 'h100-sxm.yaml']));
    for (const f of files) expect(loadProfile(join('hardware-profiles', f), RUNNERS).id).toBe(f.replace(/\.yaml$/, ''));
    const h100 = resolveProfile('h100-sxm', RUNNERS).profile;
    expect(h100.machine).toMatchObject({ nvidia_driver: '580', cuda: '13.0' });
    expect(h100.machine.gpus?.[0]?.name).toContain('H100');
  });

  it('names file, line and field of an invalid value', () => {
    const file = write('bad.yaml', ['id: bad', 'machine:', '  cpu:', '    model: x', '    cores: two', ''].join('\n'));
    const err = detbenchError(() => loadProfile(file, RUNNERS));
    expect(err.code).toBe('PROFILE_INVALID');
    expect(err.line).toBe(5);
    expect(err.field).toBe('machine.cpu.cores');
    expect(err.message).toMatch(new RegExp(`^${file}:5: machine\\.cpu\\.cores: `));
  });

  it('names unknown keys and unknown runner options with their line', () => {
    const file = write('typo.yaml', ['id: typo', 'machine:', '  cpu: { cores: 2 }', 'runners:', '  node-cuda:', '    device: 0', 'gpu: H100', ''].join('\n'));
    const err = detbenchError(() => loadProfile(file, RUNNERS));
    expect(err.message).toContain(`${file}:6: runners.node-cuda.device: unknown node-cuda option`);
    expect(err.message).toMatch(/:7: \(root\): Unrecognized key.*"gpu"/);
  });

  it('reports YAML syntax errors and missing files with their own codes', () => {
    const file = write('syntax.yaml', 'id: x\nmachine: [\n');
    const err = detbenchError(() => loadProfile(file, RUNNERS));
    expect(err.code).toBe('PROFILE_YAML');
    expect(err.message).toMatch(new RegExp(`^${file}:\\d+: invalid YAML`));
    expect(detbenchError(() => loadProfile(join(dir, 'nope.yaml'), RUNNERS)).code).toBe('PROFILE_NOT_FOUND');
    expect(detbenchError(() => resolveProfile('no-such-profile', RUNNERS)).code).toBe('PROFILE_NOT_FOUND');
  });

  it('rejects an id a report could not group by', () => {
    const err = detbenchError(() => loadProfile(write('id.yaml', 'id: My Box\nmachine: { cpu: {} }\n'), RUNNERS));
    expect(err.field).toBe('id');
    expect(err.line).toBe(1);
  });
});

describe('the profile in every record', () => {
  it('uses auto-<hash> without --profile, and the declared id with one, noting mismatches', () => {
    const fp = detectFingerprint();
    expect(recordProfile(fp).id).toMatch(/^auto-[0-9a-f]{8}$/);
    const warnings: string[] = [];
    const p = runProfile('h100-sxm', RUNNERS, (m) => warnings.push(m));
    expect(p.id).toBe('h100-sxm');
    expect(p.fingerprint.cpuCores).toBe(fp.cpuCores);
    expect(String(p.fingerprint.profileFile)).toMatch(/h100-sxm\.yaml$/);
    if (!fp.gpu) {
      expect(p.fingerprint.profileMismatches).toEqual(expect.arrayContaining([expect.stringContaining('gpus[0].name')]));
      expect(warnings.some((w) => w.startsWith('profile h100-sxm: '))).toBe(true);
    }
  });

  it('reaches the records written by runSuite', async () => {
    const model = await tinyModelDir();
    const suite = write(
      'suite.yaml',
      [
        `id: prof`,
        `model: ${model}`,
        'prompts: [{ id: a, text: "hi" }]',
        'decoding: { greedy: true }',
        'max_new_tokens: 2',
        'repetitions: 1',
        'runners:',
        '  - { id: cpu, type: node-cpu }',
        '',
      ].join('\n'),
    );
    const out = join(dir, 'run', 'results.jsonl');
    await runSuite({ suiteFile: suite, outFile: out, profile: runProfile('ci-2core', RUNNERS) });
    const records = readResults(out);
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r.profile.id).toBe('ci-2core');
      expect(r.profile.fingerprint.node).toBe(process.versions.node);
    }
  });
});
