import type { ServeHandle } from '../../src/serve/server.ts';

/** POSTs JSON to a detbench serve endpoint (`/completions`, `/chat/completions`). */
export const post = (h: ServeHandle, path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });

/** What a completion answered, streamed or not. */
export interface Answer {
  status: number;
  header: string | null;
  tokenIds: number[];
  /** One per token: rows of the forward pass that computed it. */
  batchSizes: number[];
  /** detbench.batch_size of the whole body, or of the stream's last chunk. */
  batchSize: number;
  /** performance.now() when the answer was complete. */
  doneAt: number;
}

/**
 * Reads a completion to its end. A stream's chunks are parsed as they come; `onChunk` sees each
 * (its index and the parsed chunk) and may abort it.
 */
export async function answer(res: Response, onChunk?: (i: number, chunk: any) => void): Promise<Answer> {
  const header = res.headers.get('x-detbench-batch-size');
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const body = (await res.json()) as any;
    return {
      status: res.status,
      header,
      tokenIds: body.choices?.[0]?.token_ids ?? [],
      batchSizes: body.detbench?.batch_sizes ?? [],
      batchSize: body.detbench?.batch_size,
      doneAt: performance.now(),
    };
  }
  const out: Answer = { status: res.status, header, tokenIds: [], batchSizes: [], batchSize: 0, doneAt: 0 };
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let n = 0;
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch {
      break; // aborted by onChunk
    }
    if (r.done) break;
    buf += dec.decode(r.value, { stream: true });
    for (let cut = buf.indexOf('\n\n'); cut >= 0; cut = buf.indexOf('\n\n')) {
      const ev = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
      const chunk = JSON.parse(ev.slice(6));
      out.tokenIds.push(...(chunk.choices?.[0]?.token_ids ?? []));
      out.batchSizes.push(...(chunk.detbench?.batch_sizes ?? []));
      if (typeof chunk.detbench?.batch_size === 'number') out.batchSize = chunk.detbench.batch_size;
      onChunk?.(n++, chunk);
    }
  }
  out.doneAt = performance.now();
  return out;
}
