import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fault server does with one request. */
export type Fault =
  /** A valid answer, after `delayMs` (default 0). */
  | { kind: 'ok'; delayMs?: number }
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** Answers with an error body that echoes the Authorization header (a leaky proxy). */
  | { kind: 'echo-auth'; status: number }
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
      case 'echo-auth':
        res.writeHead(fault.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `bad credentials: ${req.headers.authorization}`, type: 'invalid_request_error' } }));
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(body: Record<string, unknown>, prompt: string, res: ServerResponse, truncate: 'end' | 'destroy' | null): void {
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
    res.end(JSON.stringify({ ...base, object: chat ? 'chat.completion' : 'text_completion', choices: [choice(tokens, finish, true)], usage }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  if (truncate) {
    res.write(`data: ${JSON.stringify({ ...base, object, choices: [choice([tokens[0]!], null, false)] })}\n\n`);
    // Let the first chunk reach the client, then cut.
    setTimeout(() => (truncate === 'end' ? res.end() : res.destroy()), 20);
    return;
  }
  for (const t of tokens) res.write(`data: ${JSON.stringify({ ...base, object, choices: [choice([t], null, false)] })}\n\n`);
  res.write(`data: ${JSON.stringify({ ...base, object, choices: [{ ...choice([], finish, false), logprobs: null }] })}\n\n`);
  res.write(`data: ${JSON.stringify({ ...base, object, choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}
