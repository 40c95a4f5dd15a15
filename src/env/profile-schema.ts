import { z } from 'zod';
import { RUNNER_OPTIONS, RUNNER_TYPES, type RunnerType } from '../runner-contract/options.ts';

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

const runnerSettings = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  for (const [type, options] of Object.entries(value)) {
    if (!RUNNER_TYPES.includes(type as RunnerType)) {
      ctx.addIssue({ code: 'custom', path: [type], message: `unknown runner type (expected one of ${RUNNER_TYPES.join(', ')})` });
      continue;
    }
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      ctx.addIssue({ code: 'custom', path: [type], message: 'expected an object of runner options' });
      continue;
    }
    const known = Object.keys(RUNNER_OPTIONS[type as RunnerType].shape);
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) ctx.addIssue({ code: 'custom', path: [type, key], message: `unknown ${type} option (expected one of ${known.join(', ')})` });
    }
  }
});

export const profileSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" and "-", starting with a letter or digit'),
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
    runners: runnerSettings.optional().describe('runner type -> the options results were taken with'),
    environment: z.record(z.string(), z.string()).optional().describe('environment variables that matter (LD_LIBRARY_PATH, NVIDIA_TF32_OVERRIDE, ...)'),
    notes: z.string().optional(),
  })
  .strict();

/** A validated hardware profile. */
export type HardwareProfile = z.output<typeof profileSchema>;
