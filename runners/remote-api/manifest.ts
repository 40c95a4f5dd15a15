import { z } from 'zod';
import { defineRunner } from '../../src/runner-contract/manifest.ts';

/**
 * A base URL without user information: `http://user:KEY@host/v1` would put the key wherever the
 * URL is recorded or quoted. The message never repeats the value.
 */
const baseUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
  .refine(
    (url) => {
      try {
        const u = new URL(url);
        return u.username === '' && u.password === '';
      } catch {
        return true; // not a URL: the check above says so
      }
    },
    { error: 'must not contain a user name or password (user:password@host): put the key in an environment variable named by api_key_env' },
  )
  .describe('e.g. https://api.openai.com/v1; no user:password@ (use api_key_env)');

/** The default cap on one response's size. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export const remoteApiOptions = z
  .object({
    base_url: baseUrl,
    model: z.string().min(1),
    endpoint: z.enum(['chat', 'completions']).default('chat'),
    api_key_env: z.string().optional().describe('name of the environment variable holding the API key'),
    concurrency: z.int().min(1).default(4).describe('requests of one batch in flight at once'),
    timeout_ms: z.int().min(1).default(60_000).describe('per attempt, from sending the request to the end of the body'),
    max_retries: z.int().min(0).default(4).describe('on 408, 409, 429, 5xx, network errors, timeouts and cut streams'),
    retry_base_ms: z.int().min(0).default(500).describe('first backoff; doubles per attempt, with jitter'),
    retry_max_ms: z.int().min(0).default(20_000).describe('longest backoff'),
    retry_after_cap_ms: z.int().min(0).default(60_000).describe('longest wait a Retry-After header can ask for'),
    stream: z.boolean().default(true).describe('server-sent events; gives the time to first token'),
    max_top_logprobs: z
      .int()
      .min(0)
      .max(20)
      .default(20)
      .describe("caps the suite's top_logprobs (OpenAI allows 20 on chat, 5 on completions); 0 asks for no logprobs"),
    max_tokens_field: z.enum(['max_tokens', 'max_completion_tokens']).default('max_tokens'),
    return_token_ids: z.boolean().default(false).describe('ask for token ids (vLLM >= 0.10.2, detbench serve); OpenAI rejects it'),
    extra_body: z.record(z.string(), z.unknown()).optional().describe('fields merged into every request body'),
    max_response_bytes: z
      .int()
      .min(1)
      .default(DEFAULT_MAX_RESPONSE_BYTES)
      .describe('a response (body or whole stream) past this many bytes is an errored record, REMOTE_RESPONSE_TOO_LARGE'),
    background_load: z
      .object({
        clients: z.int().min(1).max(256).describe('concurrent clients, each sending its next request when its answer ends'),
        prompts: z.array(z.string().min(1)).min(1).describe('prompts the load draws from'),
        max_tokens: z
          .tuple([z.int().min(1), z.int().min(1)])
          .default([32, 128])
          .describe('output length per load request, drawn from [min, max]'),
        seed: z.int().min(0).default(0).describe('seeds the draws'),
      })
      .strict()
      .optional()
      .describe('greedy completions of other prompts sent to the same server for as long as this runner runs, so its requests share batches with strangers'),
  })
  .strict();

/** Parsed remote-api options. */
export type RemoteApiOptions = z.output<typeof remoteApiOptions>;

/** Any OpenAI-compatible HTTP API: it decides its own continuation, so it cannot be teacher-forced. */
export const remoteApi = defineRunner({
  type: 'remote-api',
  options: remoteApiOptions,
  needsModel: false,
  canTeacherForce: false,
  serve: false,
  modelChoice: () => ({}),
  // The server computes: a job waiting on it keeps no core busy.
  threads: () => 0,
  load: async () => (await import('./runner.ts')).remoteApiRunner,
});
