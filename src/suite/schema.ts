import { z } from 'zod';
import { HUB_DTYPES } from '../model/hub/dtype.ts';
import { isRepoId } from '../model/hub/repo-id.ts';
import { RUNNER_OPTIONS, RUNNER_TYPES, type RunnerType } from '../runner/options.ts';

const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-" only, starting with a letter or digit');

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

export const promptSchema = z.union([
  z.object({ id: id.optional(), text: z.string().min(1), system: z.string().optional() }).strict(),
  z
    .object({
      file: z.string().min(1).describe('a text file, one prompt per line (blank lines and lines starting with # are skipped), relative to the suite'),
      id_prefix: id.optional(),
    })
    .strict(),
]);

export const decodingSchema = z
  .object({
    greedy: z.boolean().default(true).describe('include one greedy (argmax) setting'),
    temperature: oneOrMany(z.number().min(0)).default([]).describe('sampled settings; 0 means greedy'),
    top_k: oneOrMany(z.int().min(0)).default([0]).describe('0 disables top-k'),
    top_p: oneOrMany(z.number().gt(0).max(1)).default([1]).describe('1 disables top-p'),
    seed: oneOrMany(z.int().min(0).max(Number.MAX_SAFE_INTEGER)).default([0]),
  })
  .strict();

const runnerEntry = z
  .object({
    id: id.describe('label of this runner configuration in results and reports'),
    type: z.enum(RUNNER_TYPES as [RunnerType, ...RunnerType[]]),
    options: z.record(z.string(), z.unknown()).default({}),
    repetitions: z.int().min(1).max(1000).optional().describe("overrides the suite's repetitions for this runner (for slow runners)"),
    matrix: z
      .record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1))
      .optional()
      .describe('sweep option values: one runner per combination, id suffixed with the values'),
  })
  .strict()
  .superRefine((entry, ctx) => {
    const schema = RUNNER_OPTIONS[entry.type];
    const keys = Object.keys(entry.matrix ?? {});
    const probe = { ...entry.options, ...Object.fromEntries(keys.map((k) => [k, entry.matrix![k]![0]])) };
    const parsed = schema.safeParse(probe);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = issue.path[0];
        const inMatrix = typeof key === 'string' && keys.includes(key);
        ctx.addIssue({ code: 'custom', message: issue.message, path: [inMatrix ? 'matrix' : 'options', ...issue.path] });
      }
    }
  });

/** A suite file as written (before prompt files are read and the grid is expanded). */
export const suiteSchema = z
  .object({
    $schema: z.string().optional(),
    id,
    description: z.string().default(''),
    model: z
      .union([
        z.string(),
        z.object({ path: z.string(), file: z.string().optional() }).strict(),
        z
          .object({
            hub: z.string().refine(isRepoId, { message: 'expected a Hugging Face Hub repo id, owner/name' }),
            revision: z.string().min(1).default('main').describe('branch, tag or commit sha'),
            dtype: z.enum(HUB_DTYPES).optional().describe('the ONNX file to fetch: fp32 is onnx/model.onnx, others onnx/model_<dtype>.onnx'),
            file: z.string().optional(),
          })
          .strict(),
      ])
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
    batch_sizes: oneOrMany(z.int().min(1).max(256)).default([1]).describe('sweep: each cell runs inside a batch of this size'),
    teacher_forcing: z.boolean().default(true).describe('also run every non-reference runner fed the reference tokens'),
    reference: id.optional().describe('runner id the others are compared with (default: the first runner)'),
    runners: z.array(runnerEntry).min(1),
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

export type SuiteFile = z.output<typeof suiteSchema>;
