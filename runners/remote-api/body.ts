/**
 * Reading a response body within a byte limit: whole (JSON and error bodies) or as server-sent
 * events, parsed by eventsource-parser in one pass over the bytes (linear in the body's size, also
 * when one event is many megabytes).
 */
import { createParser } from 'eventsource-parser';
import { RemoteError } from './http.ts';

/** The body's chunks, failing with REMOTE_RESPONSE_TOO_LARGE once more than `maxBytes` have come. */
export async function* cappedChunks(body: ReadableStream<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    total += bytes.byteLength;
    // Leaving the loop cancels the body: the rest is never downloaded.
    if (total > maxBytes) throw tooLarge(maxBytes);
    yield bytes;
  }
}

/** The error for a body past the cap. */
export function tooLarge(maxBytes: number, announced?: number): RemoteError {
  const size = announced !== undefined ? ` (Content-Length ${announced})` : '';
  return new RemoteError('REMOTE_RESPONSE_TOO_LARGE', `the response is larger than max_response_bytes (${maxBytes} bytes)${size}`, { retryable: false });
}

/** The response's Content-Length, refused up front when it announces more than `maxBytes`. */
export function checkContentLength(headers: Headers, maxBytes: number): void {
  const value = headers.get('content-length');
  if (value !== null && /^\d+$/.test(value.trim()) && Number(value) > maxBytes) throw tooLarge(maxBytes, Number(value));
}

/** The whole body as text; REMOTE_RESPONSE_TOO_LARGE past `maxBytes`. */
export async function readText(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return '';
  const decoder = new TextDecoder();
  const parts: string[] = [];
  for await (const bytes of cappedChunks(body, maxBytes)) parts.push(decoder.decode(bytes, { stream: true }));
  parts.push(decoder.decode());
  return parts.join('');
}

/**
 * At most `maxBytes` of an error body, and whether it went on past them (the rest is not read: an
 * error's message needs only its start).
 */
export async function readPrefix(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<{ text: string; cut: boolean }> {
  if (!body) return { text: '', cut: false };
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let total = 0;
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    const room = maxBytes - total;
    parts.push(decoder.decode(bytes.subarray(0, room), { stream: true }));
    total += bytes.byteLength;
    if (total > maxBytes) return { text: parts.join(''), cut: true };
  }
  parts.push(decoder.decode());
  return { text: parts.join(''), cut: false };
}

/**
 * The `data:` payloads of a server-sent event stream, one per event (multi-line data joined with
 * newlines), whatever the event's type. Comments and other fields are skipped; a last event without
 * its blank line is dropped, as the SSE spec says.
 */
export async function* sseData(chunks: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let ready: string[] = [];
  const parser = createParser({ onEvent: (e) => ready.push(e.data) });
  for await (const bytes of chunks as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(bytes, { stream: true }));
    // Hand events over as they complete, so the time to first token is the first event's.
    const batch = ready;
    ready = [];
    yield* batch;
  }
  parser.feed(decoder.decode());
  yield* ready;
}
