/** Bytes of one file arriving from the Hub. */
export interface HubProgress {
  file: string;
  received: number;
  /** Total bytes, when the server said (Content-Length); else undefined. */
  total: number | undefined;
  done: boolean;
}

/** What the last failed Hub response said, for a precise message (the library's errors keep only the status). */
export interface HubFailure {
  status: number;
  errorCode: string | undefined;
}

/**
 * A `fetch` for @huggingface/hub that reports download progress of `/resolve/` bodies and keeps
 * the Hub's `X-Error-Code` of the last failed response (RepoNotFound, RevisionNotFound, GatedRepo,
 * EntryNotFound), which the library's HubApiError does not expose. Redirects are followed, as the
 * Hub serves large files through a CDN redirect.
 */
export function watchingFetch(onProgress: ((p: HubProgress) => void) | undefined, base: typeof fetch = fetch) {
  const state: { lastFailure: HubFailure | undefined } = { lastFailure: undefined };
  const wrapped: typeof fetch = async (input, init) => {
    const res = await base(input, init);
    if (!res.ok) {
      state.lastFailure = { status: res.status, errorCode: res.headers.get('x-error-code') ?? undefined };
      return res;
    }
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const file = resolvedFile(url);
    const length = Number(res.headers.get('content-length') ?? NaN);
    const probe = (init?.headers as Record<string, string> | undefined)?.Range === 'bytes=0-0';
    if (!onProgress || !file || probe || !res.body) return res;
    const total = Number.isFinite(length) ? length : undefined;
    let received = 0;
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          received += chunk.byteLength;
          onProgress({ file, received, total, done: false });
          controller.enqueue(chunk);
        },
        flush() {
          onProgress({ file, received, total, done: true });
        },
      }),
    );
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return { fetch: wrapped, state };
}

/** The file path of a `/<repo>/resolve/<revision>/<path>` URL. */
function resolvedFile(url: string): string | undefined {
  const m = /\/resolve\/[^/]+\/(.+?)(\?|$)/.exec(new URL(url).pathname);
  return m ? decodeURIComponent(m[1]!) : undefined;
}
