/**
 * The OpenAI wire format as `detbench serve` speaks it: request validation into a plain
 * {@link ParsedRequest}, and OpenAI-style errors (`{ error: { message, type, param, code } }`).
 */
import type { Sampling } from '../decode/sampling.ts';

/** An error answered as OpenAI answers it; never thrown past the request handler. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The response body. */
  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Which endpoint a request came to. */
export type Endpoint = 'chat' | 'completions';

/** One chat message, its content flattened to text. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** A validated request, before tokenization. */
export interface ParsedRequest {
  endpoint: Endpoint;
  model: string;
  /** Chat messages, or the completion prompt (text or token ids). */
  input: { messages: ChatMessage[] } | { prompt: string } | { promptIds: number[] };
  /** Undefined: the endpoint's default (16 for completions, the rest of the context for chat). */
  maxTokens: number | undefined;
  /** Temperature 0 is greedy; a sampled request without a seed gets a random one, reported back. */
  sampling: { kind: 'greedy' } | { kind: 'sample'; temperature: number; topK: number; topP: number; seed: number | undefined };
  /** How many top candidates per step to return; null: no logprobs. */
  topLogprobs: number | null;
  stream: boolean;
  includeUsage: boolean;
  /** vLLM's `return_token_ids`: the choice carries `token_ids`. */
  returnTokenIds: boolean;
}

/** The most top candidates a request may ask for (OpenAI's chat limit). */
export const MAX_TOP_LOGPROBS = 20;

const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const invalid = (param: string, message: string, code: string | null = null) => new ApiError(400, message, 'invalid_request_error', param, code);

function number(body: Record<string, unknown>, key: string, min: number, max: number, integer = false): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw invalid(key, `Invalid type for '${key}': expected ${integer ? 'an integer' : 'a number'}, but got ${JSON.stringify(v)}.`, 'invalid_type');
  }
  if (v < min || v > max) throw invalid(key, `Invalid '${key}': ${v} is outside [${min}, ${max}].`, 'invalid_value');
  return v;
}

function boolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(key, `Invalid type for '${key}': expected a boolean, but got ${JSON.stringify(v)}.`, 'invalid_type');
  return v;
}

/** Chat content: a string, or an array of `{ type: 'text', text }` parts (other parts are refused). */
function contentText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        if (isObject(part) && part.type === 'text' && typeof part.text === 'string') return part.text;
        throw invalid(`messages[${i}].content[${j}]`, `Only text content parts are supported.`, 'unsupported_content');
      })
      .join('');
  }
  throw invalid(`messages[${i}].content`, `Invalid type for 'messages[${i}].content': expected a string or an array of text parts.`, 'invalid_type');
}

/** Features detbench serve does not implement: refused rather than ignored, since each changes the output. */
function refuseUnsupported(body: Record<string, unknown>): void {
  const n = body.n;
  if (n !== undefined && n !== null && n !== 1) throw invalid('n', `Only n=1 is supported.`, 'unsupported_value');
  const stop = body.stop;
  if (stop !== undefined && stop !== null && !(Array.isArray(stop) && stop.length === 0)) {
    throw invalid('stop', `'stop' sequences are not supported by detbench serve.`, 'unsupported_parameter');
  }
  for (const key of ['presence_penalty', 'frequency_penalty'] as const) {
    if (body[key] !== undefined && body[key] !== null && body[key] !== 0) {
      throw invalid(key, `'${key}' is not supported by detbench serve (only 0).`, 'unsupported_parameter');
    }
  }
  const bias = body.logit_bias;
  if (bias !== undefined && bias !== null && !(isObject(bias) && Object.keys(bias).length === 0)) {
    throw invalid('logit_bias', `'logit_bias' is not supported by detbench serve.`, 'unsupported_parameter');
  }
  if (body.echo === true) throw invalid('echo', `'echo' is not supported by detbench serve.`, 'unsupported_parameter');
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1) {
    throw invalid('best_of', `Only best_of=1 is supported.`, 'unsupported_value');
  }
  if (body.tools !== undefined && body.tools !== null) throw invalid('tools', `Tools are not supported by detbench serve.`, 'unsupported_parameter');
}

/** Validates a parsed JSON body for `endpoint`; throws ApiError (400) naming the offending field. */
export function parseRequest(body: unknown, endpoint: Endpoint): ParsedRequest {
  if (!isObject(body)) throw invalid('body', 'The request body must be a JSON object.');
  if (typeof body.model !== 'string' || body.model === '') {
    throw invalid('model', 'You must provide a model parameter.', 'missing_required_parameter');
  }
  refuseUnsupported(body);

  let input: ParsedRequest['input'];
  if (endpoint === 'chat') {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw invalid('messages', "'messages' must be a non-empty array.", messages === undefined ? 'missing_required_parameter' : 'invalid_type');
    }
    input = {
      messages: messages.map((m, i) => {
        if (!isObject(m)) throw invalid(`messages[${i}]`, `Invalid type for 'messages[${i}]': expected an object.`, 'invalid_type');
        if (typeof m.role !== 'string' || !ROLES.has(m.role)) {
          throw invalid(`messages[${i}].role`, `Invalid 'messages[${i}].role': expected one of ${[...ROLES].join(', ')}.`, 'invalid_value');
        }
        return { role: m.role, content: contentText(m.content, i) };
      }),
    };
  } else {
    let prompt = body.prompt;
    if (Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || Array.isArray(prompt[0]))) prompt = prompt[0];
    if (typeof prompt === 'string') input = { prompt };
    else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((t) => Number.isInteger(t) && (t as number) >= 0)) {
      input = { promptIds: prompt as number[] };
    } else if (prompt === undefined) throw invalid('prompt', 'You must provide a prompt.', 'missing_required_parameter');
    else throw invalid('prompt', "'prompt' must be a string, or one list of token ids (one prompt per request).", 'invalid_type');
  }

  const maxTokens = number(body, endpoint === 'chat' && body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens', 1, 1 << 20, true);
  const temperature = number(body, 'temperature', 0, 2) ?? 1;
  const topP = number(body, 'top_p', 0, 1) ?? 1;
  if (topP === 0) throw invalid('top_p', "Invalid 'top_p': must be greater than 0.", 'invalid_value');
  const topKRaw = number(body, 'top_k', -1, 1 << 30, true) ?? 0;
  const seed = number(body, 'seed', 0, Number.MAX_SAFE_INTEGER, true);

  let topLogprobs: number | null = null;
  if (endpoint === 'chat') {
    const want = boolean(body, 'logprobs') ?? false;
    const top = number(body, 'top_logprobs', 0, MAX_TOP_LOGPROBS, true);
    if (top !== undefined && !want) throw invalid('top_logprobs', "'top_logprobs' requires 'logprobs' to be true.", 'invalid_value');
    if (want) topLogprobs = top ?? 0;
  } else {
    const lp = number(body, 'logprobs', 0, MAX_TOP_LOGPROBS, true);
    if (lp !== undefined) topLogprobs = lp;
  }

  const stream = boolean(body, 'stream') ?? false;
  const so = body.stream_options;
  if (so !== undefined && so !== null && !isObject(so)) throw invalid('stream_options', "'stream_options' must be an object.", 'invalid_type');
  const includeUsage = stream && isObject(so) && so.include_usage === true;

  return {
    endpoint,
    model: body.model,
    input,
    maxTokens,
    // top_k -1 is vLLM's "off", like 0 here.
    sampling: temperature === 0 ? { kind: 'greedy' } : { kind: 'sample', temperature, topK: Math.max(0, topKRaw), topP, seed },
    topLogprobs,
    stream,
    includeUsage,
    returnTokenIds: boolean(body, 'return_token_ids') ?? false,
  };
}

/** The sampling the decode loop runs, given the seed drawn for an unseeded request. */
export function samplingOf(p: ParsedRequest, drawnSeed: number): Sampling {
  const s = p.sampling;
  return s.kind === 'greedy' ? s : { kind: 'sample', temperature: s.temperature, topK: s.topK, topP: s.topP, seed: s.seed ?? drawnSeed };
}
