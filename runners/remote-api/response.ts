import { RemoteError } from './http.ts';

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
  /** detbench serve's hash of each step's logits row (equal hashes: bitwise-equal rows). */
  stepHashes: string[];
}

const bad = (message: string) => new RemoteError('REMOTE_BAD_RESPONSE', message, { retryable: false });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Candidates sorted best first; ties keep the server's order. */
function ranked(pairs: [string, number][]): [string[], number[]] {
  const sorted = pairs.filter(([, lp]) => typeof lp === 'number').sort((a, b) => b[1] - a[1]);
  return [sorted.map((p) => p[0]), sorted.map((p) => p[1])];
}

/**
 * Accumulates a response (one `add`) or a stream (one `add` per chunk) for either endpoint. Only
 * choice 0 is read: detbench asks for one completion per request.
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
    stepHashes: [],
  };
  /** Whether any content or token has arrived (for the time to first token). */
  hasOutput = false;

  constructor(private readonly endpoint: Endpoint) {}

  /** Adds one response body or stream chunk (already parsed). */
  add(obj: unknown): void {
    if (!isObject(obj)) throw bad(`expected a JSON object, got ${JSON.stringify(obj)?.slice(0, 100)}`);
    if (obj.error !== undefined && obj.error !== null) {
      const e = obj.error as { message?: unknown };
      const message = typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : JSON.stringify(e);
      throw new RemoteError('REMOTE_API_ERROR', `the server reported an error: ${message}`, { retryable: false });
    }
    if (typeof obj.id === 'string') this.c.id = obj.id;
    if (typeof obj.model === 'string') this.c.model = obj.model;
    if (typeof obj.system_fingerprint === 'string') this.c.systemFingerprint = obj.system_fingerprint;
    if (isObject(obj.usage)) this.c.usage = obj.usage;
    const det = obj.detbench;
    if (isObject(det) && typeof det.batch_size === 'number') this.c.servedBatchSize = det.batch_size;
    if (isObject(det) && Array.isArray(det.step_hashes)) for (const h of det.step_hashes) this.c.stepHashes.push(String(h));
    if (obj.choices === undefined) return;
    if (!Array.isArray(obj.choices)) throw bad('"choices" is not an array');
    const choice = obj.choices.find((ch) => isObject(ch) && (ch.index ?? 0) === 0);
    if (choice === undefined) return;
    if (!isObject(choice)) throw bad('a choice is not an object');
    if (typeof choice.finish_reason === 'string') this.c.finishReason = choice.finish_reason;
    if (Array.isArray(choice.token_ids)) {
      for (const id of choice.token_ids) if (Number.isInteger(id)) this.c.tokenIds.push(id as number);
      if (choice.token_ids.length) this.hasOutput = true;
    }
    if (this.endpoint === 'chat') this.addChat(choice);
    else this.addCompletion(choice);
  }

  private addText(text: unknown): void {
    if (typeof text === 'string' && text !== '') {
      this.c.text += text;
      this.hasOutput = true;
    }
  }

  private addStep(token: string, logprob: unknown, top: [string, number][]): void {
    const [texts, lps] = ranked(top.length ? top : [[token, logprob as number]]);
    this.c.tokenTexts.push(token);
    this.c.tokenLogprobs.push(typeof logprob === 'number' ? logprob : NaN);
    this.c.topTokens.push(texts);
    this.c.topLogprobs.push(lps);
    this.hasOutput = true;
  }

  private addChat(choice: Record<string, unknown>): void {
    const msg = isObject(choice.message) ? choice.message : isObject(choice.delta) ? choice.delta : undefined;
    if (msg === undefined && choice.message !== undefined) throw bad('"message" is not an object');
    this.addText(msg?.content);
    const lp = choice.logprobs;
    if (!isObject(lp) || !Array.isArray(lp.content)) return;
    for (const entry of lp.content) {
      if (!isObject(entry) || typeof entry.token !== 'string') throw bad('a logprobs.content entry has no token');
      const top = Array.isArray(entry.top_logprobs)
        ? entry.top_logprobs.filter(isObject).map((t): [string, number] => [String(t.token), Number(t.logprob)])
        : [];
      this.addStep(entry.token, entry.logprob, top);
    }
  }

  private addCompletion(choice: Record<string, unknown>): void {
    this.addText(choice.text);
    const lp = choice.logprobs;
    if (!isObject(lp) || !Array.isArray(lp.tokens)) return;
    const tops = Array.isArray(lp.top_logprobs) ? lp.top_logprobs : [];
    const lps = Array.isArray(lp.token_logprobs) ? lp.token_logprobs : [];
    lp.tokens.forEach((token, i) => {
      const top = tops[i];
      this.addStep(String(token), lps[i], isObject(top) ? Object.entries(top).map(([t, v]): [string, number] => [t, Number(v)]) : []);
    });
  }

  result(): RemoteCompletion {
    return this.c;
  }
}

/**
 * The `data:` payloads of a server-sent event stream, one per event (multi-line data joined with
 * newlines). Comments and other fields are skipped; a last event without its blank line is dropped,
 * as the SSE spec says.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let nl: number;
    while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
      // A lone \r at the end may be the first half of \r\n: wait for the next bytes.
      if (nl === buffer.length - 1 && buffer[nl] === '\r') break;
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (data.length) yield data.join('\n');
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
    }
  }
}
