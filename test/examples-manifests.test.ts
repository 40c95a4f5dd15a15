import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { buildProgram } from '../cli/main.ts';
import { resolveShard } from '../src/run/shard.ts';

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

/** The detbench invocations in a shell line: `node bin/detbench.mjs <args>` joined by `&&`. */
function invocations(script: string): string[][] {
  return script
    .split('&&')
    .map((s) => s.trim().split(/\s+/))
    .filter((t) => t[0] === 'node' && t[1] === 'bin/detbench.mjs')
    .map((t) => t.slice(2));
}

/** Parses argv with the real CLI, every action replaced by a no-op: unknown commands, options or missing arguments throw. */
async function accepted(args: string[]): Promise<string> {
  const program = buildProgram();
  let ran = '';
  for (const c of program.commands) {
    c.action(() => {
      ran = c.name();
    });
  }
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await program.parseAsync(['node', 'detbench', ...args]);
  return ran;
}

describe('examples/kubernetes/detbench-shards.yaml', () => {
  const docs = parseAllDocuments(read('examples/kubernetes/detbench-shards.yaml')).map((d) => d.toJS() as Record<string, any>);

  it('parses: a volume claim, an Indexed Job of shards and a merge Job', () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['PersistentVolumeClaim/detbench-results', 'Job/detbench-shards', 'Job/detbench-merge']);
    expect(docs[1]!.spec.completionMode).toBe('Indexed');
  });

  it('runs commands the CLI accepts, with --shard-count equal to completions and every shard merged', async () => {
    const shards = docs[1]!;
    const n = shards.spec.completions as number;
    const [run] = invocations((shards.spec.template.spec.containers[0].command as string[])[2]!);
    expect(await accepted(run!)).toBe('run');
    expect(run![run!.indexOf('--shard-count') + 1]).toBe(String(n));
    // Each pod's index, as the Job controller sets it, gives shards 1..n.
    const got = Array.from({ length: n }, (_, i) => resolveShard({ shardCount: String(n) }, { JOB_COMPLETION_INDEX: String(i) })!.shard.index);
    expect(got).toEqual([1, 2, 3, 4]);

    const steps = invocations((docs[2]!.spec.template.spec.containers[0].command as string[])[2]!);
    expect(await Promise.all(steps.map(accepted))).toEqual(['merge', 'report', 'gate']);
    const outOf = (i: number) => run![run!.indexOf('-o') + 1]!.replace('$JOB_COMPLETION_INDEX', String(i));
    expect(steps[0]!.slice(1, 1 + n)).toEqual(Array.from({ length: n }, (_, i) => `${outOf(i)}/results.jsonl`));
  });
});

describe('examples/github-actions/detbench-shards.yml', () => {
  const wf = parse(read('examples/github-actions/detbench-shards.yml')) as Record<string, any>;

  it('parses: a shard matrix and a merge job that needs it', () => {
    expect(Object.keys(wf.jobs)).toEqual(['shard', 'merge']);
    expect(wf.jobs.merge.needs).toBe('shard');
  });

  it('runs commands the CLI accepts, one shard per matrix entry, every shard merged', async () => {
    const matrix = wf.jobs.shard.strategy.matrix.shard as number[];
    const n = matrix.length;
    const lines = (job: string, shard = '') =>
      // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub Actions' ${{ }} expression, replaced as text
      (wf.jobs[job].steps as { run?: string }[]).map((s) => (s.run ?? '').replaceAll('${{ matrix.shard }}', shard)).flatMap(invocations);
    for (const i of matrix) {
      const [args] = lines('shard', String(i));
      if (!args) throw new Error('no detbench run step in the shard job');
      expect(await accepted(args)).toBe('run');
      expect(resolveShard({ shard: args[args.indexOf('--shard') + 1]! }, {})!.shard).toEqual({ index: i, count: n });
    }
    const merge = lines('merge');
    expect(await Promise.all(merge.map(accepted))).toEqual(['merge', 'report', 'gate']);
    expect(merge[0]!.filter((a) => a.endsWith('results.jsonl'))).toEqual(matrix.map((i) => `shards/shard-${i}/results.jsonl`));
  });

  it('would catch a command the CLI does not accept', async () => {
    await expect(accepted(['merge', 'a.jsonl'])).rejects.toThrow(/required option/);
    await expect(accepted(['run', 's.yaml', '--shards', '1/2'])).rejects.toThrow(/unknown option/);
  });
});
