import type { GenerationRequest } from '../../src/runner-contract/types.ts';
import type { RemoteApiOptions } from './manifest.ts';

type Options = RemoteApiOptions;

/**
 * The JSON body of one request. detbench's sampling maps onto the OpenAI fields: greedy becomes
 * temperature 0; a sampled setting sends temperature, top_p and seed, and top_k only when set (it
 * is not an OpenAI field; vLLM and llama.cpp accept it, OpenAI rejects it).
 */
export function requestBody(req: GenerationRequest, options: Options): Record<string, unknown> {
  const body: Record<string, unknown> = { model: options.model };
  if (options.endpoint === 'chat') {
    body.messages = [...(req.system ? [{ role: 'system', content: req.system }] : []), { role: 'user', content: req.promptText }];
  } else {
    body.prompt = req.promptText;
  }
  body[options.max_tokens_field] = req.maxNewTokens;
  const s = req.sampling;
  if (s.kind === 'greedy') {
    body.temperature = 0;
  } else {
    body.temperature = s.temperature;
    body.top_p = s.topP;
    body.seed = s.seed;
    if (s.topK > 0) body.top_k = s.topK;
  }
  const k = Math.min(req.topK, options.max_top_logprobs);
  if (k > 0) {
    if (options.endpoint === 'chat') {
      body.logprobs = true;
      body.top_logprobs = k;
    } else {
      body.logprobs = k;
    }
  }
  if (options.return_token_ids) body.return_token_ids = true;
  if (options.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return { ...body, ...options.extra_body };
}

/** The endpoint URL under the base URL (which usually ends in /v1). */
export function endpointUrl(options: Options): string {
  const base = options.base_url.replace(/\/+$/, '');
  return `${base}${options.endpoint === 'chat' ? '/chat/completions' : '/completions'}`;
}

/** The base URL as it may be recorded: without user:password. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '[unparseable URL]';
  }
}
