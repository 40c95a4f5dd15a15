import { z } from 'zod';
import { HUB_DTYPES } from '../model/hub/dtype.ts';
import { isRepoId } from '../model/hub/repo-id.ts';
import { findRunner, type RunnerList, type RunnerOptionSchema, runnerTypes } from '../runner-contract/manifest.ts';
import { modelFile } from '../runner-contract/options.ts';
import { issueMessage } from '../yaml.ts';
import { shown, unionError } from './messages.ts';

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-" only, starting with a letter or digit');

/**
 * One value or a non-empty list of distinct values (a repeated value would give two cells the
 * same id). `what` names one value for messages ("a number ≥ 0").
 */
const oneOrMany = <T extends z.ZodType>(item: T, what: string) =>
  z
    .union([item, z.array(item).min(1)], { error: unionError(`${what} or a list of them`) })
    .transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[])
    .superRefine((list, ctx) => {
      list.forEach((v, i) => {
        const j = list.indexOf(v);
        if (j < i) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate value ${shown(v)} (also at [${j}]); expected distinct values` });
      });
    });

export const promptSchema = z.union(
  [
    z.object({ id: id.optional(), text: z.string().min(1), system: z.string().optional() }).strict(),
    z
      .object({
        file: z.string().min(1).describe('a text file, one prompt per line (blank lines and lines starting with # are skipped), relative to the suite'),
        id_prefix: id.optional(),
      })
      .strict(),
  ],
  { error: unionError('{ text, id?, system? } or { file, id_prefix? }') },
);

export const decodingSchema = z
  .object({
    greedy: z.boolean().default(true).describe('include one greedy (argmax) setting'),
    temperature: oneOrMany(z.number().min(0), 'a number ≥ 0').default([]).describe('sampled settings; 0 means greedy'),
    top_k: oneOrMany(z.int().min(0), 'an integer ≥ 0').default([0]).describe('0 disables top-k'),
    top_p: oneOrMany(z.number().gt(0).max(1), 'a number in (0, 1]').default([1]).describe('1 disables top-p'),
    seed: oneOrMany(z.int().min(0).max(Number.MAX_SAFE_INTEGER), 'an integer ≥ 0').default([0]),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (!d.greedy && d.temperature.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['greedy'],
        message: 'false with no temperature leaves no decoding setting; expected greedy: true or a temperature list',
      });
    }
  });

/** A runner entry of a suite, its `type` one of the list's and its options checked by that runner's schema. */
const runnerEntryFor = (list: RunnerList) =>
  z
    .object({
      id: id.describe('label of this runner configuration in results and reports'),
      type: z.enum(runnerTypes(list) as [string, ...string[]]),
      options: z.record(z.string(), z.unknown(), { error: 'expected a mapping of option names to values' }).default({}),
      repetitions: z.int().min(1).max(1000).optional().describe("overrides the suite's repetitions for this runner (for slow runners)"),
      prompts: z.array(id).min(1).optional().describe('run only these prompt ids on this runner (for slow runners); default: every prompt'),
      batch_sizes: oneOrMany(z.int().min(1).max(256), 'an integer from 1 to 256')
        .optional()
        .describe("overrides the suite's batch_sizes for this runner (for slow runners)"),
      matrix: z
        .record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()], { error: unionError('a string, number or boolean') })).min(1))
        .optional()
        .describe('sweep option values: one runner per combination, id suffixed with the values'),
    })
    .strict()
    .superRefine((entry, ctx) => {
      const manifest = findRunner(list, entry.type);
      if (manifest) checkRunnerOptions(entry, manifest.options, ctx);
    });

/**
 * Validates a runner's options and every value of its matrix against the runner type's schema,
 * each issue at its own place (`runners[0].matrix.intra_op_threads[1]`), so that expanding the
 * matrix later cannot fail. The options schemas have no rules across keys, so checking each
 * value beside the first value of the other keys covers every combination.
 */
function checkRunnerOptions(
  entry: { type: string; options: Record<string, unknown>; matrix?: Record<string, unknown[]> | undefined },
  schema: RunnerOptionSchema,
  ctx: z.RefinementCtx,
): void {
  const matrix = entry.matrix ?? {};
  const keys = Object.keys(matrix);
  const known = Object.keys(schema.shape);
  const first = Object.fromEntries(keys.map((k) => [k, matrix[k]![0]]));
  const report = (value: Record<string, unknown>, only?: { key: string; index: number }) => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return;
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        if (only) continue;
        for (const key of issue.keys) {
          const where = keys.includes(key) ? 'matrix' : 'options';
          ctx.addIssue({ code: 'custom', path: [where, key], message: `unknown ${entry.type} option "${key}"; expected one of ${known.join(', ')}` });
        }
        continue;
      }
      const key = issue.path[0];
      if (only && key !== only.key) continue;
      const inMatrix = typeof key === 'string' && keys.includes(key);
      const path = inMatrix ? ['matrix', key, only?.index ?? 0, ...issue.path.slice(1)] : ['options', ...issue.path];
      ctx.addIssue({ code: 'custom', message: issueMessage(issue), path });
    }
  };
  report({ ...entry.options, ...first });
  for (const key of keys) {
    const values = matrix[key]!;
    if (key in entry.options) ctx.addIssue({ code: 'custom', path: ['matrix', key], message: `"${key}" is also set in options; expected it in one place` });
    values.forEach((v, i) => {
      const j = values.indexOf(v);
      if (j < i) ctx.addIssue({ code: 'custom', path: ['matrix', key, i], message: `duplicate value ${shown(v)} (also at [${j}]); expected distinct values` });
      else if (i > 0) report({ ...entry.options, ...first, [key]: v }, { key, index: i });
    });
  }
}

const schemas = new WeakMap<RunnerList, ReturnType<typeof buildSuiteSchema>>();

/** The schema of a suite file as written (before prompt files are read and the grid is expanded) whose runners are those of `list`. */
export function suiteSchemaFor(list: RunnerList): ReturnType<typeof buildSuiteSchema> {
  const known = schemas.get(list);
  if (known) return known;
  const schema = buildSuiteSchema(list);
  schemas.set(list, schema);
  return schema;
}

function buildSuiteSchema(list: RunnerList) {
  return z
    .object({
      $schema: z.string().optional(),
      id,
      description: z.string().default(''),
      model: z
        .union(
          [
            z.string(),
            z.object({ path: z.string(), file: modelFile.describe('ONNX file inside the model folder (default onnx/model.onnx)') }).strict(),
            z
              .object({
                hub: z.string().refine(isRepoId, { message: 'expected a Hugging Face Hub repo id, owner/name' }),
                revision: z.string().min(1).default('main').describe('branch, tag or commit sha'),
                dtype: z.enum(HUB_DTYPES).optional().describe('the ONNX file to fetch: fp32 is onnx/model.onnx, others onnx/model_<dtype>.onnx'),
                file: modelFile.describe('ONNX file inside the repo (overrides dtype)'),
              })
              .strict(),
          ],
          { error: unionError('a model folder (a path), { path, file? } or { hub, revision?, dtype?, file? }') },
        )
        .optional()
        .transform((m) => (typeof m === 'string' ? { path: m } : m))
        .describe(
          'model folder (Hugging Face or ONNX Runtime GenAI layout) relative to the suite file, or a Hugging Face Hub repo id (owner/name, or { hub, revision, dtype }); optional if only remote runners',
        ),
      prompts: z.array(promptSchema).min(1),
      chat_template: z.boolean().default(false).describe("render prompts with the model's chat template (@huggingface/jinja)"),
      decoding: decodingSchema.default({ greedy: true, temperature: [], top_k: [0], top_p: [1], seed: [0] }),
      max_new_tokens: z.int().min(1).max(4096).default(32),
      repetitions: z.int().min(1).max(1000).default(3),
      top_logprobs: z.int().min(1).max(100).default(10).describe('candidates recorded per step'),
      batch_sizes: oneOrMany(z.int().min(1).max(256), 'an integer from 1 to 256').default([1]).describe('sweep: each cell runs inside a batch of this size'),
      teacher_forcing: z.boolean().default(true).describe('also run every non-reference runner fed the reference tokens'),
      probe: z
        .boolean()
        .default(false)
        .describe(
          'before its cells, check each local runner on the model: KV-cache decoding against a full recomputation, a padded row against the same request alone (errored cells, PROBE_FAILED, if a check fails)',
        ),
      reference: id.optional().describe('runner id the others are compared with (default: the first runner)'),
      runners: z.array(runnerEntryFor(list)).min(1),
    })
    .strict()
    .superRefine((suite, ctx) => {
      const seen = new Set<string>();
      suite.runners.forEach((r, i) => {
        if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `duplicate runner id "${r.id}"`, path: ['runners', i, 'id'] });
        seen.add(r.id);
      });
      if (suite.reference && !seen.has(suite.reference)) {
        ctx.addIssue({ code: 'custom', message: `reference "${suite.reference}" is not a runner id of this suite`, path: ['reference'] });
      }
    });
}

/** A suite file as written, validated. */
export type SuiteFile = z.output<ReturnType<typeof suiteSchemaFor>>;
