import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './protocol.ts';

// The HTTP plumbing of `detbench serve` below the protocol: reading a bounded request body and
// writing a JSON answer.

/** The request's client is gone (it aborted while sending its body): nothing to answer, nothing wrong. */
export class ClientGone extends Error {
  constructor() {
    super('the client went away');
  }
}

/** The largest request body the server reads (4 MiB); a larger one is answered 413. */
export const MAX_BODY = 4 << 20;

/** The request's body as text: ApiError 413 past {@link MAX_BODY}, {@link ClientGone} when the client hangs up mid-body. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) throw new ApiError(413, `The request body exceeds ${MAX_BODY} bytes.`, 'invalid_request_error', null, 'request_too_large');
      chunks.push(chunk);
    }
  } catch (err) {
    // Node reports a client that hangs up mid-body as `Error: aborted` (ECONNRESET).
    if (!(err instanceof ApiError) && (req.destroyed || !req.complete)) throw new ClientGone();
    throw err;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers with `value` as JSON. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
