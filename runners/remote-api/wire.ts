/**
 * The OpenAI response shapes the runner reads, as zod schemas: chat completions and text
 * completions, whole and as stream chunks. Every field the runner records is checked (logprobs
 * must be finite numbers, texts strings, ids integers); fields it does not read pass unchecked, so
 * what OpenAI, vLLM (`token_ids`), llama.cpp and detbench serve (`detbench`) add is accepted.
 */
import { z } from 'zod';
import { RemoteError } from './http.ts';
import type { Redactor } from './redact.ts';

const str = z.string({ error: 'expected a string' });
const strOrNull = z.string({ error: 'expected a string or null' }).nullable().optional();
const finite = z.number({ error: 'expected a finite number' });
const count = z.int({ error: 'expected an integer >= 0' }).min(0, { error: 'expected an integer >= 0' });
const list = <T extends z.ZodType>(item: T) => z.array(item, { error: 'expected an array' });
const object = <T extends z.core.$ZodLooseShape>(shape: T) => z.looseObject(shape, { error: 'expected an object' });

/** What every response and chunk may carry besides its choices. */
const envelope = {
  id: strOrNull,
  model: strOrNull,
  system_fingerprint: strOrNull,
  usage: z.record(z.string(), z.unknown(), { error: 'expected an object or null' }).nullable().optional(),
  /** detbench serve's own facts. */
  detbench: object({ batch_size: count.optional(), batch_sizes: list(count).optional(), step_hashes: list(str).optional() }).optional(),
};

const choiceCommon = {
  index: count.optional(),
  finish_reason: strOrNull,
  /** vLLM's return_token_ids and detbench serve. */
  token_ids: list(count).nullable().optional(),
};

const chatTop = object({ token: str, logprob: finite });
const chatLogprobs = object({
  content: list(object({ token: str, logprob: finite, top_logprobs: list(chatTop).nullable().optional() }))
    .nullable()
    .optional(),
})
  .nullable()
  .optional();
const chatMessage = object({ content: strOrNull });

const completionLogprobs = object({
  tokens: list(str).optional(),
  token_logprobs: list(finite).optional(),
  top_logprobs: list(z.record(z.string(), finite, { error: 'expected an object or null' }).nullable())
    .nullable()
    .optional(),
})
  .superRefine((lp, ctx) => {
    const n = lp.tokens?.length ?? 0;
    const have = lp.token_logprobs?.length ?? 0;
    if (have !== n) ctx.addIssue({ code: 'custom', path: ['token_logprobs'], message: `expected one entry per token (${n}), got ${have}`, input: undefined });
  })
  .nullable()
  .optional();

const chatChoice = object({ ...choiceCommon, message: chatMessage, logprobs: chatLogprobs });
const chatChunkChoice = object({ ...choiceCommon, delta: chatMessage.optional(), logprobs: chatLogprobs });
const completionChoice = object({ ...choiceCommon, text: str, logprobs: completionLogprobs });

/** `/v1/chat/completions` without streaming. */
export const chatResponse = object({ ...envelope, choices: list(chatChoice) });
/** One `chat.completion.chunk` (the last, with usage, may have no choices). */
export const chatChunk = object({ ...envelope, choices: list(chatChunkChoice).optional() });
/** `/v1/completions`, whole or one stream chunk (both are `text_completion`). */
export const completionResponse = object({ ...envelope, choices: list(completionChoice) });
export const completionChunk = object({ ...envelope, choices: list(completionChoice).optional() });

/** What one parsed response or chunk gives the builder, for either endpoint. */
export type WireMessage = z.output<typeof chatChunk> | z.output<typeof completionChunk>;
export type ChatChoice = z.output<typeof chatChunkChoice> & { message?: z.output<typeof chatMessage> };
export type CompletionChoice = z.output<typeof completionChoice>;

/** `choices[0].logprobs.content[3]`: a zod path as it would be written in JavaScript. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out || '(the response)';
}

/** A value as an error message may quote it: short, and redacted before it is shortened. */
export function shown(v: unknown, redact: Redactor): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (typeof v === 'string') return JSON.stringify(redact.excerpt(v, 40));
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return v.length ? `an array of ${v.length}` : '[]';
  return 'an object';
}

const bad = (message: string) => new RemoteError('REMOTE_BAD_RESPONSE', message, { retryable: false });

/**
 * `value` parsed by `schema`, or a REMOTE_BAD_RESPONSE naming the first bad field, what was
 * expected and what came (`choices[0].logprobs.content[3].logprob: expected a finite number, got null`).
 */
export function parseWire<S extends z.ZodType>(schema: S, value: unknown, redact: Redactor, where = ''): z.output<S> {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  const [first, ...rest] = r.error.issues;
  const issue = first!;
  // Custom issues state what came themselves; zod's own say only what was expected.
  const got = issue.code === 'custom' ? '' : `, got ${shown((issue as { input?: unknown }).input, redact)}`;
  const more = rest.length ? ` (and ${rest.length} more)` : '';
  throw bad(`${fieldPath(issue.path)}: ${issue.message}${got}${where}${more}`);
}
