import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { RowSummary } from '../decode/logits.ts';
import type { DecodeResult } from '../decode/types.ts';
import type { TextTokenizer } from '../model/types.ts';
import { ApiError, type ParsedRequest } from './protocol.ts';

/**
 * Header naming the size of the batch a response was computed in: the largest of its steps', or in
 * a stream (whose headers precede every later step) the first forward pass's.
 */
export const BATCH_HEADER = 'x-detbench-batch-size';

/** Header with every batch size of a non-streamed response and how many of its tokens each computed: `1:1 2:15`. */
export const BATCH_SIZES_HEADER = 'x-detbench-batch-sizes';

/** The part of a chosen token the responder reads. */
export interface ChosenToken {
  token: number;
  /** The row's logits; read during the call only. */
  logits: Float32Array;
  /** Read only when the request asks for log-probabilities (a continuous batch computes it on that read). */
  readonly summary: RowSummary;
  /** The row's hash, if known apart from the summary (else `summary.hash` is read). */
  readonly hash?: string;
}

/** `size:count` pairs, smallest size first. */
export function batchHistogram(sizes: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const s of sizes) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
}

/** One candidate as OpenAI's chat logprobs list it. */
interface TopEntry {
  token: string;
  logprob: number;
  bytes: number[];
}

/** One generated token, with its log-probability and the top candidates when the request asks for log-probabilities. */
interface StepEntry {
  id: number;
  token: string;
  /** Hash of the step's whole logits row (bitwise identity across responses). */
  hash: string;
  /** Rows of the forward pass that computed it. */
  batchSize: number;
  /** Null when the request asks for no log-probabilities (nothing reads them then). */
  logprobs: (TopEntry & { top: TopEntry[] }) | null;
}

/** What every response of one request shares. */
export interface ResponseContext {
  req: ParsedRequest;
  modelName: string;
  systemFingerprint: string;
  tokenizer: TextTokenizer;
  stopIds: readonly number[];
  promptIds: number[];
  /** The seed a sampled request ran with (its own, or the one drawn for it). */
  seed: number | null;
  batching: 'continuous' | 'static' | 'off';
}

const utf8 = (s: string) => [...Buffer.from(s, 'utf8')];

/** Sends an OpenAI-style error (JSON, or an SSE error event once a stream has begun). */
export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) {
    res.end(`data: ${JSON.stringify(err.body())}\n\n`);
    return;
  }
  const body = JSON.stringify(err.body());
  res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Answers one request as its batch decodes: `start` when the batch begins (the batch size is known
 * then, so a stream's headers carry it), `step` per token (streams write a chunk), `finish` with the
 * row's result. Text is detokenized incrementally and held back while it ends in an incomplete
 * UTF-8 character; stop tokens are kept in the ids and logprobs but not in the text, as vLLM does.
 */
export class Responder {
  private readonly id: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly entries: StepEntry[] = [];
  private readonly textIds: number[] = [];
  private emitted = '';
  private batch: { size: number; index: number | null; queueMs: number } = { size: 0, index: 0, queueMs: 0 };
  private failed = false;

  constructor(
    private readonly ctx: ResponseContext,
    private readonly res: ServerResponse,
  ) {
    this.id = `${ctx.req.endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
  }

  private get chat(): boolean {
    return this.ctx.req.endpoint === 'chat';
  }

  private get open(): boolean {
    return !this.failed && !this.res.destroyed && !this.res.writableEnded;
  }

  /** The largest batch any token so far was computed in (the first pass's size before any token). */
  private get largestBatch(): number {
    return this.entries.reduce((m, x) => Math.max(m, x.batchSize), this.batch.size);
  }

  private detbench(batchSize = this.largestBatch) {
    return {
      batch_size: batchSize,
      ...(this.batch.index === null ? {} : { batch_index: this.batch.index }),
      batching: this.ctx.batching,
      queue_ms: this.batch.queueMs,
      seed: this.ctx.seed,
    };
  }

  /**
   * The request's first forward pass begins: `size` rows (its batch, or its prefill group), at row
   * `index` (null where rows move, under continuous batching), after `queueMs` waiting.
   */
  start(size: number, index: number | null, queueMs: number): void {
    this.batch = { size, index, queueMs: Math.round(queueMs * 1000) / 1000 };
    if (!this.ctx.req.stream || !this.open) return;
    this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', [BATCH_HEADER]: String(size) });
    if (this.chat) this.chunk({ role: 'assistant', content: '' }, null, null, true);
  }

  /** One chosen token, computed in a forward pass of `batchSize` rows. */
  step(e: ChosenToken, batchSize: number): void {
    if (this.failed) return;
    try {
      const { tokenizer } = this.ctx;
      const text = tokenizer.tokenText(e.token);
      const n = this.ctx.req.topLogprobs;
      // Without log-probabilities only the hash is sent: the summary (its log-sum-exp pass) is not computed.
      let logprobs: StepEntry['logprobs'] = null;
      if (n !== null) {
        const { summary } = e;
        const lse = summary.logits[0]! - summary.logprobs[0]!;
        const top = summary.ids.slice(0, n).map((id, r) => {
          const t = tokenizer.tokenText(id);
          return { token: t, logprob: summary.logprobs[r]!, bytes: utf8(t) };
        });
        logprobs = { token: text, logprob: e.logits[e.token]! - lse, bytes: utf8(text), top };
      }
      const entry: StepEntry = { id: e.token, token: text, hash: e.hash ?? e.summary.hash, batchSize, logprobs };
      this.entries.push(entry);
      if (!this.ctx.stopIds.includes(e.token)) this.textIds.push(e.token);
      if (this.ctx.req.stream && this.open) this.chunk(this.chat ? { content: this.textDelta(false) } : this.textDelta(false), [entry], null, false);
    } catch (err) {
      this.fail(err);
    }
  }

  finish(result: Pick<DecodeResult, 'finishReason'>): void {
    if (!this.open) return;
    const finish = result.finishReason === 'length' ? 'length' : 'stop';
    const usage = {
      prompt_tokens: this.ctx.promptIds.length,
      completion_tokens: this.entries.length,
      total_tokens: this.ctx.promptIds.length + this.entries.length,
    };
    if (this.ctx.req.stream) {
      const rest = this.textDelta(true);
      this.chunk(this.chat ? (rest ? { content: rest } : {}) : rest, null, finish, false);
      if (this.ctx.req.includeUsage) this.write({ ...this.envelope(), choices: [], usage });
      this.res.end('data: [DONE]\n\n');
      return;
    }
    const text = this.text();
    const choice: Record<string, unknown> = this.chat
      ? { index: 0, message: { role: 'assistant', content: text }, logprobs: this.logprobs(this.entries), finish_reason: finish }
      : { index: 0, text, logprobs: this.logprobs(this.entries), finish_reason: finish };
    if (this.ctx.req.returnTokenIds) choice.token_ids = this.entries.map((x) => x.id);
    const body = JSON.stringify({
      ...this.envelope(),
      choices: [choice],
      usage,
      ...(this.ctx.req.returnTokenIds ? { prompt_token_ids: this.ctx.promptIds } : {}),
      detbench: { ...this.detbench(), batch_sizes: this.entries.map((x) => x.batchSize), step_hashes: this.entries.map((x) => x.hash) },
    });
    this.res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [BATCH_HEADER]: String(this.largestBatch),
      [BATCH_SIZES_HEADER]: batchHistogram(this.entries.map((x) => x.batchSize)),
    });
    this.res.end(body);
  }

  fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    const api =
      err instanceof ApiError ? err : new ApiError(500, `The server failed to generate: ${err instanceof Error ? err.message : String(err)}`, 'server_error');
    sendError(this.res, api);
  }

  /** The completion's text so far (the tokenizer refuses an empty list: a first token that stops gives ''). */
  private text(): string {
    return this.textIds.length ? this.ctx.tokenizer.decode(this.textIds) : '';
  }

  /** New text since the last call; at the end, everything left (even an incomplete character). */
  private textDelta(final: boolean): string {
    const full = this.text();
    if (!final && full.endsWith('\uFFFD')) return '';
    if (!full.startsWith(this.emitted)) return '';
    const delta = full.slice(this.emitted.length);
    this.emitted = full;
    return delta;
  }

  private envelope() {
    return {
      id: this.id,
      object: this.chat ? (this.ctx.req.stream ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion',
      created: this.created,
      model: this.ctx.modelName,
      system_fingerprint: this.ctx.systemFingerprint,
    };
  }

  private logprobs(entries: StepEntry[]): unknown {
    if (this.ctx.req.topLogprobs === null) return null;
    const lp = entries.map((x) => x.logprobs!);
    if (this.chat) return { content: lp.map((x) => ({ token: x.token, logprob: x.logprob, bytes: x.bytes, top_logprobs: x.top })) };
    let offset = this.emittedOffset(entries);
    return {
      tokens: entries.map((x) => x.token),
      token_logprobs: lp.map((x) => x.logprob),
      top_logprobs: lp.map((x) => Object.fromEntries(x.top.map((t) => [t.token, t.logprob]))),
      text_offset: entries.map((x) => {
        const at = offset;
        offset += x.token.length;
        return at;
      }),
    };
  }

  /** Character offset of the first of `entries` in the completion (the tokens before it, as texts). */
  private emittedOffset(entries: StepEntry[]): number {
    const first = this.entries.indexOf(entries[0]!);
    return this.entries.slice(0, Math.max(first, 0)).reduce((n, x) => n + x.token.length, 0);
  }

  /**
   * One stream chunk; the first carries the batch facts as known then, each token's chunk its
   * batch size, and the last (finish_reason set) the largest batch size of the whole answer.
   */
  private chunk(deltaOrText: Record<string, unknown> | string, entries: StepEntry[] | null, finish: string | null, first: boolean): void {
    const choice: Record<string, unknown> = this.chat
      ? { index: 0, delta: deltaOrText, logprobs: entries ? this.logprobs(entries) : null, finish_reason: finish }
      : { index: 0, text: deltaOrText, logprobs: entries ? this.logprobs(entries) : null, finish_reason: finish };
    if (this.ctx.req.returnTokenIds && entries) choice.token_ids = entries.map((x) => x.id);
    const isFirst = first || (!this.chat && this.entries.length === 1 && entries !== null);
    const facts = isFirst ? this.detbench(this.batch.size) : finish ? this.detbench() : {};
    const det = { ...facts, ...(entries ? { batch_sizes: entries.map((x) => x.batchSize), step_hashes: entries.map((x) => x.hash) } : {}) };
    this.write({ ...this.envelope(), choices: [choice], ...(Object.keys(det).length ? { detbench: det } : {}) });
  }

  private write(obj: unknown): void {
    if (this.open) this.res.write(`data: ${JSON.stringify(obj)}\n\n`);
  }
}
