import { Mt19937 } from '../decode/mt19937.ts';

/** What a {@link LoadGenerator} sends. */
export interface LoadOptions {
  /** Base URL of an OpenAI-compatible server, ending in /v1. */
  baseUrl: string;
  model: string;
  /** Concurrent closed-loop clients: each sends its next request as soon as its answer ends. */
  clients: number;
  /** Prompts, drawn at random per request. */
  prompts: readonly string[];
  /** Output length per request, drawn uniformly from [min, max]. */
  maxTokens: readonly [number, number];
  /** Seeds the draws (MT19937), so one seed sends the same sequence of requests. */
  seed: number;
  /** Extra headers (an Authorization header for a hosted server). */
  headers?: Record<string, string>;
}

/** What the load did. */
export interface LoadStats {
  requests: number;
  /** Requests answered with something else than 200, and requests that failed on the network. */
  failed: number;
  tokens: number;
  /** Batch sizes detbench serve reported for the load's tokens (`detbench.batch_sizes`), as size to token count. */
  batchSizes: Record<string, number>;
  /** The first failure's message, if any. */
  firstError: string | null;
}

/**
 * Background traffic for a server: `clients` loops of greedy completions of other prompts, so that
 * the requests under test share the server's batches with strangers, as they would in production.
 * Runs until {@link stop}; a failed request is counted and the client goes on.
 */
export class LoadGenerator {
  private readonly rng: Mt19937;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly abort = new AbortController();
  private readonly stats: LoadStats = { requests: 0, failed: 0, tokens: 0, batchSizes: {}, firstError: null };

  constructor(private readonly opts: LoadOptions) {
    if (!(opts.clients >= 1)) throw new RangeError(`clients must be >= 1, got ${opts.clients}`);
    if (opts.prompts.length === 0) throw new RangeError('the load needs at least one prompt');
    const [min, max] = opts.maxTokens;
    if (!(min >= 1 && max >= min)) throw new RangeError(`max tokens must be 1 <= min <= max, got [${min}, ${max}]`);
    this.rng = new Mt19937(opts.seed);
  }

  /** Starts the clients (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.opts.clients }, () => this.client());
  }

  /** Stops the clients, cutting requests in flight, and returns what the load did. */
  async stop(): Promise<LoadStats> {
    this.running = false;
    this.abort.abort();
    await Promise.all(this.loops);
    return { ...this.stats, batchSizes: { ...this.stats.batchSizes } };
  }

  private draw(): { prompt: string; maxTokens: number } {
    const { prompts, maxTokens } = this.opts;
    const prompt = prompts[Math.floor(this.rng.random() * prompts.length)]!;
    return { prompt, maxTokens: maxTokens[0] + Math.floor(this.rng.random() * (maxTokens[1] - maxTokens[0] + 1)) };
  }

  private async client(): Promise<void> {
    while (this.running) {
      const { prompt, maxTokens } = this.draw();
      try {
        const res = await fetch(`${this.opts.baseUrl.replace(/\/+$/, '')}/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.opts.headers },
          body: JSON.stringify({ model: this.opts.model, prompt, max_tokens: maxTokens, temperature: 0 }),
          signal: this.abort.signal,
        });
        const body = (await res.json().catch(() => null)) as {
          usage?: { completion_tokens?: number };
          detbench?: { batch_sizes?: number[] };
        } | null;
        this.stats.requests++;
        if (res.status !== 200) {
          this.fail(`HTTP ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
          continue;
        }
        this.stats.tokens += body?.usage?.completion_tokens ?? 0;
        for (const s of body?.detbench?.batch_sizes ?? []) this.stats.batchSizes[s] = (this.stats.batchSizes[s] ?? 0) + 1;
      } catch (err) {
        if (!this.running) return;
        this.stats.requests++;
        this.fail(err instanceof Error ? err.message : String(err));
        // A server that refuses connections would otherwise be hammered in a tight loop.
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private fail(message: string): void {
    this.stats.failed++;
    this.stats.firstError ??= message;
  }
}
