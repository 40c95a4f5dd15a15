/**
 * One HTTP exchange with retries: per-attempt timeouts (AbortController), exponential backoff with
 * jitter, Retry-After honoured up to a cap. Errors carry a stable code and say whether a retry may help.
 */
import type { Redactor } from './redact.ts';

/** Why an attempt failed. `retryable` follows the OpenAI client: 408, 409, 429, 5xx, network, timeout. */
export class RemoteError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly status: number | undefined;
  /** What the server's Retry-After (or retry-after-ms) header asked for. */
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, opts: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RemoteError';
    this.code = code;
    this.retryable = opts.retryable;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** How hard to try. */
export interface RetryPolicy {
  /** Attempts after the first. */
  maxRetries: number;
  /** First backoff; doubles per retry up to `maxMs`, then jittered into [d/2, d]. */
  baseMs: number;
  maxMs: number;
  /** The longest Retry-After honoured; a longer one waits this long. */
  retryAfterCapMs: number;
  /** Limit of one attempt, from sending the request to the end of the body. */
  timeoutMs: number;
}

/** HTTP statuses worth another attempt. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Milliseconds a response asks to wait: `retry-after-ms` (OpenAI), else `Retry-After` as seconds
 * or as an HTTP date; undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait before retry number `retry` (1-based). */
export function backoffMs(retry: number, policy: RetryPolicy, err: RemoteError, random: () => number = Math.random): number {
  if (err.retryAfterMs !== undefined) return Math.min(err.retryAfterMs, policy.retryAfterCapMs);
  const d = Math.min(policy.maxMs, policy.baseMs * 2 ** (retry - 1));
  return d / 2 + random() * (d / 2);
}

/** A thrown value as a RemoteError: aborts by our timer become timeouts, fetch failures network errors. */
export function asRemoteError(err: unknown, timedOut: boolean, timeoutMs: number): RemoteError {
  if (err instanceof RemoteError) return err;
  if (timedOut) return new RemoteError('REMOTE_TIMEOUT', `no complete response within ${timeoutMs} ms`, { retryable: true, cause: err });
  const e = err as { name?: unknown; message?: unknown; code?: unknown; cause?: { code?: unknown; message?: unknown } };
  const cause = e?.cause;
  // undici: "fetch failed" (connect, reset before the answer) and "terminated" (cut body), with the socket error as cause.
  const network = e?.message === 'fetch failed' || e?.message === 'terminated' || typeof e?.code === 'string' || typeof cause?.code === 'string';
  if (!network) return new RemoteError('REMOTE_CLIENT_ERROR', String(e?.message ?? err), { retryable: false, cause: err });
  const detail = cause ? ` (${String(cause.code ?? cause.message ?? cause)})` : '';
  return new RemoteError('REMOTE_NETWORK', `${String(e?.message ?? err)}${detail}`, { retryable: true, cause: err });
}

/**
 * An HTTP error response as a RemoteError, with the server's own message when it gave one. The
 * message is redacted before it is shortened, so a secret across the cut cannot leave a prefix;
 * `body.cut` says the body was read only in part (its end may hold the start of a secret).
 */
export function httpError(status: number, statusText: string, body: { text: string; cut: boolean }, headers: Headers, redact: Redactor): RemoteError {
  let detail = body.text.trim();
  const cut = body.cut;
  if (!cut) {
    try {
      const parsed = JSON.parse(body.text) as { error?: { message?: unknown } | string; message?: unknown };
      const m = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
      if (typeof m === 'string') detail = m;
    } catch {
      // not JSON: keep the raw text
    }
  }
  detail = redact.excerpt(detail, 500, cut);
  const retryAfterMs = parseRetryAfter(headers);
  return new RemoteError('REMOTE_HTTP_ERROR', `HTTP ${status}${statusText ? ` ${statusText}` : ''}${detail ? `: ${detail}` : ''}`, {
    retryable: retryableStatus(status),
    status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/**
 * A 3xx answer: redirects are not followed (a 307 could send the prompt and the key to another
 * host, a 302 resends the request without its body). The Location is named without user
 * information, query or fragment (they may carry tokens), and redacted.
 */
export function redirectError(status: number, statusText: string, location: string | null, requestUrl: string, redact: Redactor): RemoteError {
  let where = 'no Location header';
  if (location !== null) {
    try {
      const u = new URL(location, requestUrl);
      const hidden = u.search || u.hash ? '?…' : '';
      u.username = '';
      u.password = '';
      u.search = '';
      u.hash = '';
      where = `Location: ${redact.excerpt(u.toString(), 300)}${hidden}`;
    } catch {
      where = `Location (not a URL): ${JSON.stringify(redact.excerpt(location, 100))}`;
    }
  }
  return new RemoteError(
    'REMOTE_REDIRECT',
    `HTTP ${status}${statusText ? ` ${statusText}` : ''}: redirects are not followed (${where}); set base_url to the final address`,
    {
      retryable: false,
      status,
    },
  );
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The result of {@link withRetries}, with how many attempts it took. */
export interface Attempted<T> {
  value: T;
  attempts: number;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or retries are spent. Each
 * attempt gets its own AbortSignal that fires after `policy.timeoutMs`. The final error's message
 * says how many attempts were made; `onAttempt` sees every failure (for logs and tests).
 */
export async function withRetries<T>(
  attempt: (signal: AbortSignal, n: number) => Promise<T>,
  policy: RetryPolicy,
  onFailure?: (err: RemoteError, n: number) => void,
): Promise<Attempted<T>> {
  for (let n = 1; ; n++) {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, policy.timeoutMs);
    let err: RemoteError;
    try {
      return { value: await attempt(controller.signal, n), attempts: n };
    } catch (raw) {
      err = asRemoteError(raw, timedOut, policy.timeoutMs);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    onFailure?.(err, n);
    if (!err.retryable || n > policy.maxRetries) {
      const tries = n === 1 ? '' : ` (after ${n} attempts)`;
      throw new RemoteError(err.code, `${err.message}${tries}`, {
        retryable: err.retryable,
        ...(err.status !== undefined ? { status: err.status } : {}),
        cause: err,
      });
    }
    await sleep(backoffMs(n, policy, err));
  }
}
