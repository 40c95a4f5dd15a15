import { DetbenchError } from '../../src/errors.ts';
import type { Generation, GenerationOutcome, GenerationRequest, Runner } from '../../src/runner-contract/types.ts';
import { LoadGenerator } from '../../src/serve/load.ts';
import { DETBENCH_VERSION } from '../../src/version.ts';
import { cappedChunks, checkContentLength, readPrefix, readText, sseData } from './body.ts';
import { httpError, RemoteError, type RetryPolicy, redirectError, withRetries } from './http.ts';
import type { RemoteApiOptions } from './manifest.ts';
import { type Redactor, redactDeep, redactor } from './redact.ts';
import { endpointUrl, publicUrl, requestBody } from './request.ts';
import { CompletionBuilder, type RemoteCompletion } from './response.ts';

export { RemoteError } from './http.ts';
export { REDACTED } from './redact.ts';

type Options = RemoteApiOptions;

/** What one exchange gave, before it becomes a Generation. */
interface Exchange {
  completion: RemoteCompletion;
  ttftMs: number | null;
  totalMs: number;
  /** `x-detbench-batch-size`, when the server is detbench serve. */
  batchHeader: number | null;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the items' order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Error bodies are read this far: their message needs only the start. */
const ERROR_BODY_BYTES = 64 * 1024;

/**
 * One attempt: POST (redirects not followed), check the status, read the body or stream, within
 * `max_response_bytes`, into a completion checked against the OpenAI schema.
 */
async function exchange(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: Options,
  signal: AbortSignal,
  redact: Redactor,
): Promise<Exchange> {
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => {});
    throw redirectError(res.status, res.statusText, res.headers.get('location'), url, redact);
  }
  if (!res.ok) {
    const text = await readPrefix(res.body, Math.min(ERROR_BODY_BYTES, options.max_response_bytes)).catch(() => ({ text: '', cut: false }));
    throw httpError(res.status, res.statusText, text, res.headers, redact);
  }
  checkContentLength(res.headers, options.max_response_bytes);
  const header = res.headers.get('x-detbench-batch-size');
  const batchHeader = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  let ttftMs: number | null = null;
  const isStream = (res.headers.get('content-type') ?? '').includes('text/event-stream');
  const streamed = options.stream && isStream && res.body !== null;
  const builder = new CompletionBuilder(options.endpoint, streamed, redact);
  if (streamed) {
    let done = false;
    for await (const data of sseData(cappedChunks(res.body!, options.max_response_bytes))) {
      if (data.trim() === '[DONE]') {
        done = true;
        break;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(data);
      } catch {
        throw new RemoteError('REMOTE_BAD_RESPONSE', `a stream event is not JSON: ${redact.excerpt(data, 200)}`, { retryable: false });
      }
      builder.add(chunk);
      if (ttftMs === null && builder.hasOutput) ttftMs = performance.now() - t0;
    }
    // Some servers close without [DONE]; a finish_reason still proves the completion ended.
    if (!done && builder.finishReason === null) {
      throw new RemoteError('REMOTE_TRUNCATED', 'the event stream ended before [DONE]', { retryable: true });
    }
  } else {
    const text = await readText(res.body, options.max_response_bytes);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RemoteError('REMOTE_BAD_RESPONSE', `the response is not JSON: ${redact.excerpt(text, 200)}`, { retryable: false });
    }
    builder.add(json);
  }
  const completion = builder.result();
  const totalMs = performance.now() - t0;
  return { completion, ttftMs: ttftMs ?? (options.stream ? null : totalMs), totalMs, batchHeader };
}

/** The record-facing form: texts and log-probabilities per step, ids only where the server sent them. */
function toGeneration(x: Exchange, attempts: number, batch: { size: number; index: number }, endpoint: string): Generation {
  const c = x.completion;
  const n = Math.max(c.tokenTexts.length, c.tokenIds.length);
  const margin = c.topLogprobs.map((lps) => (lps.length >= 2 ? lps[0]! - lps[1]! : NaN));
  const decodeMs = x.ttftMs !== null ? x.totalMs - x.ttftMs : 0;
  return {
    text: c.text,
    // Without logprobs but with ids, leave the texts to the harness (it decodes ids with the suite's model).
    ...(c.tokenTexts.length || !c.tokenIds.length ? { tokenTexts: c.tokenTexts } : {}),
    tokens: c.tokenIds,
    steps: {
      token: c.tokenIds,
      topIds: [],
      topLogits: [],
      topLogprobs: c.topLogprobs,
      topTokens: c.topTokens,
      margin,
      // Only detbench serve sends row hashes; kept when there is one per step.
      hash: c.stepHashes.length === n ? c.stepHashes : [],
    },
    finishReason: c.finishReason === 'length' ? 'length' : 'stop',
    timings: {
      ttftMs: x.ttftMs ?? x.totalMs,
      stepMs: [],
      tokensPerSecond: n > 1 && decodeMs > 0 ? ((n - 1) * 1000) / decodeMs : null,
      totalMs: x.totalMs,
    },
    batch,
    extra: {
      endpoint,
      model: c.model,
      systemFingerprint: c.systemFingerprint,
      responseId: c.id,
      finishReason: c.finishReason,
      usage: c.usage,
      tokenLogprobs: c.tokenLogprobs,
      latency: { ttftMs: x.ttftMs, totalMs: x.totalMs },
      attempts,
      // The body's (or the stream's last chunk's) detbench.batch_size is the largest batch of the whole
      // answer; a stream's header was sent before its later steps and gives only the first pass's.
      ...(x.batchHeader !== null || c.servedBatchSize !== null ? { servedBatchSize: c.servedBatchSize ?? x.batchHeader } : {}),
      ...(c.servedBatchSizes.length ? { servedBatchSizes: c.servedBatchSizes } : {}),
    },
  };
}

/**
 * An OpenAI-compatible HTTP API (`/v1/chat/completions` or `/v1/completions`): OpenAI, vLLM,
 * llama.cpp, `detbench serve`. The key is read from the environment variable the suite names and
 * never written anywhere: every outcome is scrubbed of it.
 */
export const remoteApiRunner: Runner<Options> = {
  async probe(options) {
    // A missing key is known before any request: every cell is skipped with how to run it.
    if (options.api_key_env !== undefined && !process.env[options.api_key_env]) {
      return {
        available: false,
        reason: `environment variable ${options.api_key_env} (api_key_env) is not set or empty: set it and run again with --fresh (--resume keeps skipped cells)`,
      };
    }
    // No network here: a transient failure would turn every cell into a `skipped` record that
    // --resume does not retry. Connection problems surface per request as `errored` records.
    return { available: true, info: { baseUrl: publicUrl(options.base_url), model: options.model, endpoint: options.endpoint } };
  },

  async open(_model, options) {
    let key: string | undefined;
    if (options.api_key_env !== undefined) {
      key = process.env[options.api_key_env];
      if (!key) {
        throw new DetbenchError('REMOTE_API_KEY_MISSING', `remote-api: environment variable ${options.api_key_env} (api_key_env) is not set or empty`);
      }
    }
    const secrets = key ? [key] : [];
    const redact = redactor(secrets);
    const url = endpointUrl(options);
    const path = new URL(url).pathname;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: options.stream ? 'text/event-stream, application/json' : 'application/json',
      'user-agent': `detbench/${DETBENCH_VERSION}`,
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    };
    const policy: RetryPolicy = {
      maxRetries: options.max_retries,
      baseMs: options.retry_base_ms,
      maxMs: options.retry_max_ms,
      retryAfterCapMs: options.retry_after_cap_ms,
      timeoutMs: options.timeout_ms,
    };

    const one = async (req: GenerationRequest, index: number, size: number): Promise<GenerationOutcome> => {
      if (req.teacherTokens) {
        return {
          status: 'errored',
          error: { code: 'REMOTE_TEACHER_FORCING_UNSUPPORTED', message: 'an HTTP API cannot be fed tokens; set teacher_forcing: false in the suite' },
        };
      }
      const body = JSON.stringify(requestBody(req, options));
      try {
        const { value, attempts } = await withRetries((signal) => exchange(url, headers, body, options, signal, redact), policy);
        return redactDeep({ status: 'completed', generation: toGeneration(value, attempts, { size, index }, options.endpoint) }, secrets);
      } catch (err) {
        const code = err instanceof RemoteError ? err.code : 'REMOTE_ERROR';
        const message = err instanceof Error ? err.message : String(err);
        return { status: 'errored', error: { code, message: redact.text(`POST ${path}: ${message}`) } };
      }
    };

    // Started before the first request, so the runner's requests find the load already running.
    const load = options.background_load
      ? new LoadGenerator({
          baseUrl: options.base_url,
          model: options.model,
          clients: options.background_load.clients,
          prompts: options.background_load.prompts,
          maxTokens: options.background_load.max_tokens,
          seed: options.background_load.seed,
          ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}),
        })
      : null;
    load?.start();

    return {
      provider: { requested: 'remote', effective: 'remote' },
      environment: {
        baseUrl: publicUrl(options.base_url),
        endpoint: options.endpoint,
        model: options.model,
        stream: options.stream,
        concurrency: options.concurrency,
        ...(options.background_load ? { backgroundLoad: { clients: options.background_load.clients, maxTokens: options.background_load.max_tokens } } : {}),
      },
      sessionMs: 0,
      runtimeVersion: null,
      generate: (requests) => mapLimit(requests, options.concurrency, (req, i) => one(req, i, requests.length)),
      close: async () => {
        await load?.stop();
      },
    };
  },
};
