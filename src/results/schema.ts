/**
 * The results record: detbench's public contract, one JSON object per line of `results.jsonl`.
 *
 * This schema is written by hand, on purpose: it is not derived from the decode loop's or the
 * runners' internal types, so a change there cannot silently change the file format. The
 * TypeScript types of records (`src/results/record.ts`) are derived from it, every reader validates
 * against it (`src/results/read.ts`), one builder writes it (`src/results/build.ts`), and it is
 * published as JSON Schema in `results.schema.json` (regenerate with `npm run schema`; a test checks
 * that the committed file is current).
 *
 * How to add a field:
 * 1. Add it here, `.optional()` unless every record of the current `SCHEMA_VERSION` has always
 *    carried it (files written before the field existed must stay valid), with a `.describe()`.
 * 2. Write it in `src/results/build.ts` (the one place records are assembled; the key order there
 *    is the order in the file).
 * 3. `npm run schema`, and document it in README.md, "Results format".
 * Bump `SCHEMA_VERSION` only for a change that an older reader would misread (a field removed,
 * renamed or whose meaning changes, or a new field that readers must not ignore); keep the old
 * version in `READABLE_VERSIONS` when the readers still understand it. Structural objects are
 * strict (an unknown key is an error, so a typo or an undeclared field cannot slip into a file);
 * free-form bags (`runner.options`, `environment`, `extra`, the fingerprint) accept any key.
 */
import { z } from 'zod';

/**
 * The version this detbench writes. 2: the id-order sampler with dexp/dlog and `steps.draw`; 3:
 * `suite.hash` (README, "Results format" and "Sampling").
 */
export const SCHEMA_VERSION = 3;

/** Versions this detbench reads: earlier versions lack the fields that came later (`draw`, `suite.hash`). */
export const READABLE_VERSIONS: readonly number[] = [1, 2, 3];

/**
 * Runner types a record may name. Listed here rather than imported from the runner registry, so
 * that the contract changes only by an edit of this file (a test checks it lists every runner).
 */
export const RECORD_RUNNER_TYPES = ['node-cpu', 'node-cuda', 'node-webgpu', 'browser-wasm', 'browser-webgpu', 'remote-api', 'markov'] as const;

/** A runner type a record may name. */
export type RecordRunnerType = (typeof RECORD_RUNNER_TYPES)[number];

/** Whether records may name this runner type (a runner the contract does not list cannot write records). */
export function isRecordRunnerType(type: string): type is RecordRunnerType {
  return (RECORD_RUNNER_TYPES as readonly string[]).includes(type);
}

/**
 * Runner types whose records compute with a model of their own rather than the suite's (the markov
 * control, whose records name its n-gram table): they are grouped and compared only with records of
 * the same type. Part of the contract, since it decides what a record is compared with.
 */
export const OWN_MODEL_TYPES: ReadonlySet<string> = new Set(['markov']);

const int = z.int();
const count = z.int().min(0);
/** JSON has no Infinity or NaN: `JSON.stringify` writes them as null (a margin with one candidate). */
const num = z.number().nullable();
const isoTime = z.iso.datetime();

const sampling = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('greedy') }),
  z.strictObject({
    kind: z.literal('sample'),
    temperature: z.number().gt(0),
    topK: count.describe('0: top-k off'),
    topP: z.number().gt(0).max(1).describe('1: top-p off'),
    seed: count,
  }),
]);

const fingerprint = z
  .looseObject({
    cpuModel: z.string(),
    cpuCores: z.number(),
    os: z.string(),
    arch: z.string(),
    memoryGiB: z.number(),
    node: z.string(),
  })
  .describe('the detected machine (CPU, OS, memory, GPU, browser, ...); more keys as detected or declared');

const common = {
  schemaVersion: z.union([z.literal(1), z.literal(2), z.literal(3)]).describe('record format version; this detbench writes 3'),
  id: z
    .string()
    .min(1)
    .describe('suite/prompt/setting/runner/b<batch>/r<repetition>[/tf]: unique per cell; a later record of the same profile and id supersedes an earlier one'),
  suite: z.strictObject({
    id: z.string().min(1),
    file: z.string().describe('the suite file, relative to the working folder of the run'),
    hash: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe('sha256 of what defines the cells and their meaning (README, "Results format"); required from schemaVersion 3'),
  }),
  prompt: z.strictObject({
    id: z.string().min(1),
    text: z.string(),
    rendered: z.string().optional().describe('the text fed to the tokenizer, when a chat template changed it'),
  }),
  setting: z.strictObject({ id: z.string().min(1), sampling, maxNewTokens: z.int().min(1) }),
  runner: z.strictObject({
    id: z.string().min(1),
    type: z.enum(RECORD_RUNNER_TYPES),
    options: z.record(z.string(), z.unknown()).describe('the runner options as parsed (defaults applied)'),
  }),
  repetition: count,
  batchSize: z.int().min(1),
  mode: z.enum(['free', 'teacher-forced']),
  referenceId: z.string().optional().describe('teacher-forced: the reference record whose tokens were fed'),
  model: z
    .strictObject({
      name: z.string().describe('the model folder name, or the Hub repo id'),
      file: z.string(),
      sha256: z.string(),
      layout: z.string().optional().describe('`hf` or `genai`'),
      dtype: z.string().optional().describe('the dtype name that chose the file (precision option or transformers.js_config.dtype)'),
      precision: z
        .strictObject({
          summary: z.string().describe('e.g. `fp32`, `q4 (MatMulNBits 4-bit, block 16), fp32 compute`'),
          compute: z.string(),
          logits: z.string(),
          quantized: z.array(z.strictObject({ op: z.string(), nodes: count, bits: count, blockSize: count.optional() })),
        })
        .optional()
        .describe('weight and compute types as the graph declares them'),
      overrides: z
        .array(z.strictObject({ field: z.string(), config: z.unknown(), graph: z.unknown() }))
        .optional()
        .describe('configuration values the graph corrected'),
      padding: z.string().optional().describe('how rows of a batch are padded for this graph: `left`, or `right` for GroupQueryAttention'),
      hub: z
        .strictObject({
          repo: z.string(),
          revision: z.string().describe('as the suite asked for it: a branch, a tag or a commit'),
          commit: z.string().describe('the commit it resolved to'),
          offline: z.boolean().describe('the files came from the cache alone (HF_HUB_OFFLINE)'),
        })
        .optional()
        .describe('for a model named by Hub repo id'),
    })
    .nullable()
    .describe('null for runners that use no local model'),
  tool: z.strictObject({ detbench: z.string(), onnxruntime: z.string().nullable(), node: z.string() }),
  profile: z.strictObject({ id: z.string().min(1), fingerprint }),
  startedAt: isoTime,
  finishedAt: isoTime,
  shard: z
    .strictObject({ index: z.int().min(1), count: z.int().min(1), planned: count })
    .optional()
    .describe("set by `detbench run --shard i/n`: this record's shard, and how many records that shard plans"),
};

const steps = z
  .strictObject({
    token: z.array(int).describe('the chosen token per step (teacher-forced: the model’s own choice)'),
    forced: z.array(int).optional().describe('teacher-forced only: the reference token fed at each step'),
    topIds: z.array(z.array(int)).describe('per step, the top candidates, best first, ties to the lower id'),
    topLogits: z.array(z.array(num)),
    topLogprobs: z.array(z.array(num)).describe('float64 log-softmax over the whole row'),
    margin: z.array(num).describe('best minus second-best logit (null: fewer than two candidates)'),
    hash: z.array(z.string()).describe('64-bit hash of the step’s full float32 logits row'),
    draw: z
      .array(num)
      .optional()
      .describe('local runners, from schemaVersion 2: the uniform draw in [0, 1) each sampled step consumed; null where nothing was drawn (greedy)'),
    topTokens: z.array(z.array(z.string())).optional().describe('remote runners: candidate strings (no ids)'),
  })
  .describe('one entry per generated position, column-wise');

const completed = z.strictObject({
  ...common,
  status: z.literal('completed'),
  provider: z.strictObject({ requested: z.string(), effective: z.string() }),
  environment: z.record(z.string(), z.unknown()).describe('runner facts: threads, browser, adapter, recording, ...'),
  promptTokens: z.array(int),
  tokens: z.array(int).describe('empty for remote runners that report texts only'),
  tokenTexts: z.array(z.string()),
  text: z.string(),
  steps,
  finishReason: z.enum(['stop', 'length', 'teacher']),
  timings: z.strictObject({
    ttftMs: z.number(),
    stepMs: z.array(z.number()),
    tokensPerSecond: z.number().nullable(),
    totalMs: z.number(),
    sessionMs: z.number().describe('session creation (model load), apart'),
  }),
  batch: z.strictObject({ size: z.int().min(1), index: count }),
  extra: z.record(z.string(), z.unknown()).optional().describe('runner-specific facts about the response'),
});

const errored = z.strictObject({
  ...common,
  status: z.literal('errored'),
  error: z.strictObject({ code: z.string().min(1), message: z.string() }),
});

const skipped = z.strictObject({
  ...common,
  status: z.literal('skipped'),
  reason: z.string(),
});

/** One line of a results file. */
export const resultRecordSchema = z
  .discriminatedUnion('status', [completed, errored, skipped])
  .superRefine((r, ctx) => {
    if (r.schemaVersion >= 3 && r.suite.hash === undefined) {
      ctx.addIssue({ code: 'custom', message: 'required from schemaVersion 3', path: ['suite', 'hash'] });
    }
  })
  .describe('One detbench result record: one line of results.jsonl. See README.md, "Results format".');

/** The schemas of each status, for callers that need one branch. */
export const recordSchemas = { completed, errored, skipped } as const;
