import { z } from 'zod';
import { findRunner, type RunnerList, runnerTypes } from '../runner-contract/manifest.ts';

/**
 * A hardware profile (`hardware-profiles/*.yaml`): the machine a result was taken on and the runner
 * settings it was taken with. Keys are snake_case as written in YAML; only `id` and `machine` are
 * required, so a hand-written profile may say only what it knows.
 */
const gpu = z
  .object({
    name: z.string().min(1),
    memory_gib: z.number().positive().optional(),
    count: z.int().min(1).default(1),
    compute_capability: z.string().optional(),
  })
  .strict();

/** Runner type -> options, each type one of `list`'s and each key one of that runner's options. */
const runnerSettingsFor = (list: RunnerList) =>
  z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    for (const [type, options] of Object.entries(value)) {
      const manifest = findRunner(list, type);
      if (!manifest) {
        ctx.addIssue({ code: 'custom', path: [type], message: `unknown runner type (expected one of ${runnerTypes(list).join(', ')})` });
        continue;
      }
      if (typeof options !== 'object' || options === null || Array.isArray(options)) {
        ctx.addIssue({ code: 'custom', path: [type], message: 'expected an object of runner options' });
        continue;
      }
      const known = Object.keys(manifest.options.shape);
      for (const key of Object.keys(options)) {
        if (!known.includes(key)) ctx.addIssue({ code: 'custom', path: [type, key], message: `unknown ${type} option (expected one of ${known.join(', ')})` });
      }
    }
  });

const schemas = new WeakMap<RunnerList, ReturnType<typeof buildProfileSchema>>();

/** The schema of a hardware profile whose runner settings name runners of `list`. */
export function profileSchemaFor(list: RunnerList): ReturnType<typeof buildProfileSchema> {
  const known = schemas.get(list);
  if (known) return known;
  const schema = buildProfileSchema(list);
  schemas.set(list, schema);
  return schema;
}

function buildProfileSchema(list: RunnerList) {
  return z
    .object({
      id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" and "-", starting with a letter or digit'),
      description: z.string().optional(),
      machine: z
        .object({
          cpu: z
            .object({
              model: z.string().min(1).optional().describe('as /proc/cpuinfo "model name" says it'),
              cores: z.int().min(1).optional().describe('logical cores'),
              flags: z.array(z.string()).optional().describe('avx2, avx512f, ... as /proc/cpuinfo names them'),
            })
            .strict(),
          memory_gib: z.number().positive().optional(),
          os: z.string().optional(),
          arch: z.string().optional(),
          gpus: z.array(gpu).optional(),
          nvidia_driver: z.string().optional(),
          cuda: z.string().optional(),
        })
        .strict(),
      software: z
        .object({
          node: z.string().optional(),
          onnxruntime: z.string().optional(),
          cuda_provider: z.string().optional().describe('where libonnxruntime_providers_cuda.so came from'),
          chromium: z.string().optional(),
        })
        .strict()
        .optional(),
      browser: z
        .object({
          name: z.string(),
          version: z.string().optional(),
          flags: z.array(z.string()).optional(),
        })
        .strict()
        .optional(),
      runners: runnerSettingsFor(list).optional().describe('runner type -> the options results were taken with'),
      environment: z.record(z.string(), z.string()).optional().describe('environment variables that matter (LD_LIBRARY_PATH, NVIDIA_TF32_OVERRIDE, ...)'),
      notes: z.string().optional(),
    })
    .strict();
}

/** A validated hardware profile. */
export type HardwareProfile = z.output<ReturnType<typeof profileSchemaFor>>;
