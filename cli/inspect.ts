import { existsSync, writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { RUNNERS } from '../runners/index.ts';
import { DetbenchError } from '../src/errors.ts';
import { describeModel } from '../src/model/describe.ts';
import { isRepoId } from '../src/model/hub/repo-id.ts';
import type { HubProvenance } from '../src/model/hub/snapshot.ts';
import { loadModel } from '../src/model/load.ts';
import { DTYPE_NAMES, type DtypeName } from '../src/model/precision.ts';
import { type ProbeReport, probeSession } from '../src/probe/probe.ts';
import { probePrompts, probeTolerance } from '../src/probe/prompts.ts';
import { openHubFolder } from '../src/run/model-source.ts';
import { findRunner, type RunnerManifest } from '../src/runner-contract/manifest.ts';

interface InspectFlags {
  precision?: DtypeName;
  modelFile?: string;
  runner: string;
  probe: boolean;
  steps: number;
  tolerance?: number;
  json?: string;
  revision: string;
}

/** The runners the probe can run on: those that run the suite's model. */
const LOCAL_RUNNERS = RUNNERS.manifests.filter((m) => m.needsModel).map((m) => m.type);

/** The probe's lines for the text output. */
export function describeProbe(report: ProbeReport, runner: string): string {
  const lines = [`probe (${runner}, ${report.steps} greedy steps; short prompt ${report.prompts.short.length} tokens, long ${report.prompts.long.length})`];
  for (const c of report.checks) {
    const what = c.error
      ? `error: ${c.error}`
      : `${c.tokensEqual ? 'tokens equal' : `tokens differ from step ${c.firstMismatch?.step ?? '?'}`}, ${c.bitwiseSteps}/${c.steps} steps bitwise equal, max relative |Δ logit| ${c.maxRelDiff.toExponential(2)} (tolerance ${c.tolerance})`;
    lines.push(`  ${c.id.padEnd(22)} ${c.pass ? 'pass' : 'FAIL'}  ${what}`);
  }
  lines.push(
    `verdict    ${report.pass ? 'pass: detbench feeds this model correctly on this runner' : 'FAIL: do not measure this model with this runner until the failing check is understood'}`,
  );
  return lines.join('\n');
}

/** `detbench inspect <model-dir>`: what detbench reads from a model folder, how it feeds it, and the self-check. */
export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description(
      'show what detbench reads from a model folder and how it feeds the graph, then run the probe (KV cache against recompute, padded row against alone)',
    )
    .argument('<model-dir>', 'model folder (Hugging Face / transformers.js or ONNX Runtime GenAI layout), or a Hugging Face Hub repo id (owner/name)')
    .addOption(new Option('--precision <dtype>', 'onnx-community dtype: which onnx/model_<dtype>.onnx to load').choices(DTYPE_NAMES))
    .option('--model-file <file>', 'ONNX file inside the model folder (overrides --precision)')
    .addOption(new Option('--runner <type>', 'local runner the probe runs on').choices(LOCAL_RUNNERS).default('node-cpu'))
    .option('--no-probe', 'describe only; run nothing')
    .option(
      '--steps <n>',
      'greedy steps the probe decodes',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('--steps must be an integer >= 1');
        return n;
      },
      8,
    )
    .option('--tolerance <x>', 'allowed relative |Δ logit| (default 1e-4 for fp32 compute, 1e-2 for fp16)', (v) => {
      const x = Number(v);
      if (!(x >= 0)) throw new InvalidArgumentError('--tolerance must be a number >= 0');
      return x;
    })
    .option('--json <file>', 'also write the description and the probe report as JSON')
    .option('--revision <rev>', 'for a Hub repo id: branch, tag or commit sha', 'main')
    .action(async (dir: string, flags: InspectFlags) => {
      let hub: HubProvenance | undefined;
      if (!existsSync(dir) && isRepoId(dir)) {
        // No such folder, and it has the shape of owner/name: a Hugging Face Hub repo, fetched into the shared cache.
        const choice = { ...(flags.modelFile ? { model_file: flags.modelFile } : {}), ...(flags.precision ? { precision: flags.precision } : {}) };
        const opened = await openHubFolder(dir, flags.revision, choice, (p) => {
          if (p.done) process.stderr.write(`detbench: hub ${dir}: ${p.file} ${(p.received / 1e6).toFixed(1)} MB done\n`);
        });
        hub = opened.provenance;
        dir = opened.dir;
      }
      const model = await loadModel(dir, flags.modelFile ? { onnxFile: flags.modelFile } : flags.precision ? { precision: flags.precision } : {});
      if (hub)
        process.stdout.write(`hub        ${hub.repo} @ ${hub.revision} -> commit ${hub.commit}${hub.offline ? ' (from the cache, HF_HUB_OFFLINE)' : ''}\n`);
      process.stdout.write(`${describeModel(model)}\n`);
      let report: ProbeReport | undefined;
      if (flags.probe) {
        // commander's choices admit only LOCAL_RUNNERS. Typed as any manifest: its options then go to its own runner.
        const manifest: RunnerManifest = findRunner(RUNNERS, flags.runner)!;
        const runner = await manifest.load();
        const options = manifest.options.parse({});
        const available = await runner.probe(options);
        if (!available.available) throw new DetbenchError('RUNNER_UNAVAILABLE', `--runner ${flags.runner}: ${available.reason}`);
        const session = await runner.open(model, options);
        try {
          report = await probeSession(session, { ...probePrompts(model), steps: flags.steps, tolerance: flags.tolerance ?? probeTolerance(model) });
        } finally {
          await session.close();
        }
        process.stdout.write(`${describeProbe(report, flags.runner)}\n`);
        if (!report.pass) process.exitCode = 1;
      }
      if (flags.json) {
        const { tokenizer: _tokenizer, ...facts } = model;
        writeFileSync(flags.json, `${JSON.stringify({ model: facts, ...(hub ? { hub } : {}), probe: report ?? null }, null, 2)}\n`);
      }
    });
}
