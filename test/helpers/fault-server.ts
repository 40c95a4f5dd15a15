import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fault server does with one request. */
export type Fault =
  /** A valid answer, after `delayMs` (default 0). */
  | { kind: 'ok'; delayMs?: number }
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /**
   * Answers with an error body that echoes the key (a leaky proxy): as the Authorization header
   * came (`bearer`), base64 or base64url encoded, or as `Basic base64("api:" + key)`; after `pad`
   * characters of filler, so that a test can put the key across a cut; `json: false` sends it as text.
   */
  | { kind: 'echo-auth'; status: number; form?: 'bearer' | 'base64' | 'base64url' | 'basic'; pad?: number; json?: boolean }
  /**
   * A valid answer changed on its way out: `edit` changes each JSON object (the response, or each
   * stream chunk, numbered from 0) and `text` its serialized form (for what JSON.stringify cannot
   * write, such as `1e999`).
   */
  | { kind: 'edit'; edit?: (obj: Record<string, any>, n: number) => void; text?: (json: string) => string }
  /** 200 and data without end: one endless SSE event, 64 KiB events that never finish, or an endless JSON string. */
  | { kind: 'flood'; as: 'one-event' | 'many-events' | 'json' }
  /** A JSON answer whose Content-Length says `bytes`; only that header is sent, then the socket hangs. */
  | { kind: 'announce'; bytes: number }
  /** A redirect to `location`. */
  | { kind: 'redirect'; status: number; location: string }
  /** Destroys the socket without answering. */
  | { kind: 'reset' }
  /** 200 with a body that is not JSON. */
  | { kind: 'garbage' }
  /** Streams the first chunk, then ends the response cleanly or destroys the socket; no [DONE] either way. */
  | { kind: 'truncate'; how: 'end' | 'destroy' }
  /** Never answers (until the client gives up or the server closes). */
  | { kind: 'hang' };

/** One request as the server saw it. */
export interface SeenRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** The prompt text (completions) or the last message's content (chat). */
  prompt: string;
  /** 1 for the first request with this prompt, 2 for its first retry, ... */
  attempt: number;
  at: number;
}

export interface FaultServer {
  /** Base URL, ending in /v1. */
  url: string;
  requests: SeenRequest[];
  /** Requests seen for one prompt. */
  attempts(prompt: string): number;
  /** Most requests that were in flight at once. */
  maxInFlight(): number;
  /** Bytes written by `flood` answers before the client went away. */
  floodedBytes(): number;
  close(): Promise<void>;
}

/** The completion the server gives for a prompt: three tokens derived from it, so tests can check them. */
export function expectedTokens(prompt: string): string[] {
  return [` ${prompt}`, '-', 'ok'];
}

/**
 * A loopback OpenAI-compatible server that misbehaves on demand: `plan(request)` picks each
 * request's fault (per-prompt attempt numbers let a test say "fail twice, then answer"). Successful
 * answers follow the endpoint, `stream` and `logprobs` of the request.
 */
export async function startFaultServer(plan: (req: SeenRequest) => Fault): Promise<FaultServer> {
  const requests: SeenRequest[] = [];
  const counts = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let flooded = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as Record<string, unknown>;
    const messages = body.messages as { content: string }[] | undefined;
    const prompt = messages ? messages.at(-1)!.content : String(body.prompt);
    const attempt = (counts.get(prompt) ?? 0) + 1;
    counts.set(prompt, attempt);
    const seen: SeenRequest = { path: req.url ?? '', headers: req.headers, body, prompt, attempt, at: Date.now() };
    requests.push(seen);
    const fault = plan(seen);
    switch (fault.kind) {
      case 'status':
        res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
        res.end(fault.body ?? JSON.stringify({ error: { message: `injected ${fault.status}`, type: 'server_error', param: null, code: null } }));
        return;
      case 'echo-auth': {
        const key = String(req.headers.authorization).replace(/^Bearer /, '');
        const form = fault.form ?? 'bearer';
        const echoed =
          form === 'bearer'
            ? `${req.headers.authorization}`
            : form === 'basic'
              ? `Basic ${Buffer.from(`api:${key}`).toString('base64')}`
              : Buffer.from(key).toString(form);
        const message = `${'.'.repeat(fault.pad ?? 0)}bad credentials: ${echoed}`;
        const json = fault.json ?? true;
        res.writeHead(fault.status, { 'content-type': json ? 'application/json' : 'text/plain' });
        res.end(json ? JSON.stringify({ error: { message, type: 'invalid_request_error' } }) : message);
        return;
      }
      case 'edit':
        answer(body, prompt, res, null, fault);
        return;
      case 'flood': {
        res.writeHead(200, { 'content-type': fault.as === 'json' ? 'application/json' : 'text/event-stream' });
        const chunk =
          fault.as === 'many-events' ? `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'x'.repeat(65_000) } }] })}\n\n` : 'x'.repeat(65_536);
        res.write(fault.as === 'json' ? '{"choices": [{"index": 0, "message": {"content": "' : fault.as === 'one-event' ? 'data: ' : '');
        const more = () => {
          while (!res.destroyed) {
            flooded += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
        };
        res.on('close', () => res.removeAllListeners('drain'));
        more();
        return;
      }
      case 'announce':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(fault.bytes) });
        res.flushHeaders();
        return;
      case 'redirect':
        res.writeHead(fault.status, { location: fault.location, 'content-type': 'text/plain' });
        res.end('moved');
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
        res.end(body.stream ? 'data: {"choices": [tru\n\n' : '{"choices": [tru');
        return;
      case 'hang':
        return;
      case 'truncate':
        answer(body, prompt, res, fault.how);
        return;
      case 'ok':
        if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        answer(body, prompt, res, null);
    }
  };

  const server = createServer((req, res) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    res.on('close', () => inFlight--);
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    attempts: (prompt) => counts.get(prompt) ?? 0,
    maxInFlight: () => maxInFlight,
    floodedBytes: () => flooded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Edit = Extract<Fault, { kind: 'edit' }>;

function answer(body: Record<string, unknown>, prompt: string, res: ServerResponse, truncate: 'end' | 'destroy' | null, edit?: Edit): void {
  let n = 0;
  const serialize = (obj: Record<string, any>) => {
    edit?.edit?.(obj, n++);
    const json = JSON.stringify(obj);
    return edit?.text ? edit.text(json) : json;
  };
  const chat = Array.isArray(body.messages);
  const tokens = expectedTokens(prompt).slice(0, Number(body.max_tokens ?? 16));
  const k = chat ? (body.logprobs ? Number(body.top_logprobs ?? 0) : -1) : body.logprobs === undefined ? -1 : Number(body.logprobs);
  const top = (t: string) => [t, `${t}?`, `${t}!`].slice(0, Math.max(k, 0)).map((x, i) => ({ token: x, logprob: -0.1 - i }));
  const logprobsOf = (toks: string[]) => {
    if (k < 0) return null;
    if (chat) return { content: toks.map((t) => ({ token: t, logprob: -0.1, bytes: null, top_logprobs: top(t) })) };
    return { tokens: toks, token_logprobs: toks.map(() => -0.1), top_logprobs: toks.map((t) => Object.fromEntries(top(t).map((c) => [c.token, c.logprob]))) };
  };
  const base = { id: 'cmpl-fault', model: 'fault-model', created: 0, system_fingerprint: 'fp_fault' };
  const usage = { prompt_tokens: 1, completion_tokens: tokens.length, total_tokens: tokens.length + 1 };
  const choice = (toks: string[], finish: string | null, whole: boolean) =>
    chat
      ? { index: 0, [whole ? 'message' : 'delta']: { role: 'assistant', content: toks.join('') }, logprobs: logprobsOf(toks), finish_reason: finish }
      : { index: 0, text: toks.join(''), logprobs: logprobsOf(toks), finish_reason: finish };
  const finish = tokens.length < 3 ? 'length' : 'stop';
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(serialize({ ...base, object: chat ? 'chat.completion' : 'text_completion', choices: [choice(tokens, finish, true)], usage }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  if (truncate) {
    res.write(`data: ${serialize({ ...base, object, choices: [choice([tokens[0]!], null, false)] })}\n\n`);
    // Let the first chunk reach the client, then cut.
    setTimeout(() => (truncate === 'end' ? res.end() : res.destroy()), 20);
    return;
  }
  for (const t of tokens) res.write(`data: ${serialize({ ...base, object, choices: [choice([t], null, false)] })}\n\n`);
  res.write(`data: ${serialize({ ...base, object, choices: [{ ...choice([], finish, false), logprobs: null }] })}\n\n`);
  res.write(`data: ${serialize({ ...base, object, choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}
