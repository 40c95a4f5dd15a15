import { RemoteError } from './http.ts';
import { type Redactor, redactor } from './redact.ts';
import { type ChatChoice, type CompletionChoice, chatChunk, chatResponse, completionChunk, completionResponse, parseWire, type WireMessage } from './wire.ts';

/** Which OpenAI endpoint a response came from. */
export type Endpoint = 'chat' | 'completions';

/** One completion as the server reported it, assembled from a JSON response or from stream chunks. */
export interface RemoteCompletion {
  text: string;
  /** The text of each generated token (from logprobs), when the server sent logprobs. */
  tokenTexts: string[];
  /** The log-probability of each chosen token. */
  tokenLogprobs: number[];
  /** Token ids, when the server sends them (`token_ids`: vLLM's return_token_ids, detbench serve). */
  tokenIds: number[];
  /** Top candidates per step, best first. */
  topTokens: string[][];
  topLogprobs: number[][];
  finishReason: string | null;
  id: string | null;
  model: string | null;
  systemFingerprint: string | null;
  usage: Record<string, unknown> | null;
  /** detbench serve's own report: the size of the batch the response was computed in. */
  servedBatchSize: number | null;
  /** detbench serve's batch size of each token (`detbench.batch_sizes`), in token order. */
  servedBatchSizes: number[];
  /** detbench serve's hash of each step's logits row (equal hashes: bitwise-equal rows). */
  stepHashes: string[];
}

const bad = (message: string) => new RemoteError('REMOTE_BAD_RESPONSE', message, { retryable: false });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Candidates sorted best first; ties keep the server's order. */
function ranked(pairs: [string, number][]): [string[], number[]] {
  const sorted = [...pairs].sort((a, b) => b[1] - a[1]);
  return [sorted.map((p) => p[0]), sorted.map((p) => p[1])];
}

/**
 * Accumulates a response (one `add`) or a stream (one `add` per chunk) for either endpoint, each
 * checked against the OpenAI schema first (see wire.ts). Only choice 0 is read: detbench asks for
 * one completion per request.
 */
export class CompletionBuilder {
  private readonly c: RemoteCompletion = {
    text: '',
    tokenTexts: [],
    tokenLogprobs: [],
    tokenIds: [],
    topTokens: [],
    topLogprobs: [],
    finishReason: null,
    id: null,
    model: null,
    systemFingerprint: null,
    usage: null,
    servedBatchSize: null,
    servedBatchSizes: [],
    stepHashes: [],
  };
  /** Whether any content or token has arrived (for the time to first token). */
  hasOutput = false;
  private events = 0;
  private sawChoice = false;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly stream: boolean,
    private readonly redact: Redactor = redactor([]),
  ) {}

  /** The finish reason so far (null until a choice has given one). */
  get finishReason(): string | null {
    return this.c.finishReason;
  }

  /** Adds one response body or stream chunk (already parsed from JSON). */
  add(obj: unknown): void {
    this.events++;
    if (isObject(obj) && obj.error !== undefined && obj.error !== null) {
      const e = obj.error as { message?: unknown };
      const message = typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : JSON.stringify(e);
      throw new RemoteError('REMOTE_API_ERROR', `the server reported an error: ${this.redact.excerpt(String(message), 500)}`, { retryable: false });
    }
    const schema = this.endpoint === 'chat' ? (this.stream ? chatChunk : chatResponse) : this.stream ? completionChunk : completionResponse;
    const m: WireMessage = parseWire(schema, obj, this.redact, this.stream ? ` (stream event ${this.events})` : '');
    if (typeof m.id === 'string') this.c.id = m.id;
    if (typeof m.model === 'string') this.c.model = m.model;
    if (typeof m.system_fingerprint === 'string') this.c.systemFingerprint = m.system_fingerprint;
    if (m.usage) this.c.usage = m.usage;
    if (m.detbench?.batch_size !== undefined) this.c.servedBatchSize = m.detbench.batch_size;
    if (m.detbench?.batch_sizes) this.c.servedBatchSizes.push(...m.detbench.batch_sizes);
    if (m.detbench?.step_hashes) this.c.stepHashes.push(...m.detbench.step_hashes);
    const choices = m.choices ?? [];
    const choice = choices.find((ch) => (ch.index ?? 0) === 0);
    if (choice === undefined) {
      if (!this.stream) throw bad(`choices: expected a choice with index 0, got ${choices.length ? `${choices.length} others` : '[]'}`);
      return;
    }
    this.sawChoice = true;
    if (typeof choice.finish_reason === 'string') this.c.finishReason = choice.finish_reason;
    if (choice.token_ids) {
      this.c.tokenIds.push(...choice.token_ids);
      if (choice.token_ids.length) this.hasOutput = true;
    }
    if (this.endpoint === 'chat') this.addChat(choice as ChatChoice);
    else this.addCompletion(choice as CompletionChoice);
  }

  private addText(text: string | null | undefined): void {
    if (typeof text === 'string' && text !== '') {
      this.c.text += text;
      this.hasOutput = true;
    }
  }

  private addStep(token: string, logprob: number, top: [string, number][]): void {
    const [texts, lps] = ranked(top.length ? top : [[token, logprob]]);
    this.c.tokenTexts.push(token);
    this.c.tokenLogprobs.push(logprob);
    this.c.topTokens.push(texts);
    this.c.topLogprobs.push(lps);
    this.hasOutput = true;
  }

  private addChat(choice: ChatChoice): void {
    this.addText((choice.message ?? choice.delta)?.content);
    for (const entry of choice.logprobs?.content ?? []) {
      this.addStep(
        entry.token,
        entry.logprob,
        (entry.top_logprobs ?? []).map((t): [string, number] => [t.token, t.logprob]),
      );
    }
  }

  private addCompletion(choice: CompletionChoice): void {
    this.addText(choice.text);
    const lp = choice.logprobs;
    if (!lp?.tokens) return;
    lp.tokens.forEach((token, i) => {
      const top = lp.top_logprobs?.[i];
      this.addStep(token, lp.token_logprobs![i]!, top ? Object.entries(top) : []);
    });
  }

  /** The completion; a stream in which no event carried choice 0 is a bad response. */
  result(): RemoteCompletion {
    if (!this.sawChoice) throw bad(`choices: none of the ${this.events} stream events had a choice with index 0`);
    return this.c;
  }
}
