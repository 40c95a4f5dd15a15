import { live, type OnToken } from './continuous-event.ts';
import { continuousRefusal, emptyCache, type HalfScratch, logitsOf, passFeeds, presentOf } from './continuous-pass.ts';
import { assembleRows, type KvData, type KvPart } from './kv.ts';
import { hashFloat32, type RowSummary, summarizeRow } from './logits.ts';
import { Mt19937 } from './mt19937.ts';
import { argmax, sampleToken } from './sampling.ts';
import type { DecodeModel, DecodeRequest } from './types.ts';

export type { OnToken, TokenEvent } from './continuous-event.ts';

/** A request decoding in the batch. */
interface Member<T> {
  tag: T;
  req: DecodeRequest;
  rng: Mt19937 | null;
  /** Tokens in this row's cache (prompt plus every token fed so far). */
  cached: number;
  /** The token chosen last, fed at the next step. */
  next: number;
  /** Tokens chosen so far. */
  chosen: number;
}

/**
 * Iteration-level ("continuous") batching over the shared decode model, as vLLM's and SGLang's
 * schedulers do it: requests join between steps (their prompts are prefilled together, beside the
 * running batch, and their caches placed beside the others'), and a request leaves as soon as it is
 * finished or withdrawn, so a request's companions change while it decodes. Each step is one
 * forward pass over every member, left-padded to the longest cache; the chosen token depends only
 * on the row's logits, its sampling settings and its own generator. Imports nothing from Node or
 * the DOM; the caller decides when to join, step and withdraw.
 */
export class ContinuousBatch<T> {
  private members: Member<T>[] = [];
  /** Per layer: key, value. Each `[kvRows, heads, kvLength, headDim]`. */
  private kv: KvData[] = [];
  private kvRows = 0;
  private kvLength = 0;
  /**
   * Which rows of `kv` the members hold, in member order, when members have left since the cache
   * was last laid out (null: all of them, in order). Leaving only marks rows: the cache is compacted
   * once, when the next forward pass needs it, and a join that follows a leave (a closed-loop client
   * sending its next request) places old and new rows in one copy instead of two.
   */
  private live: number[] | null = null;
  /** The longest member's cache: the positions every row is padded to in the next pass. */
  private length = 0;
  private readonly scratch: HalfScratch = { half: null };

  private readonly release: (data: ArrayBufferView) => void;

  /**
   * `model`: the graph and session every pass runs on (read-only here; a benchmark times its runs).
   * `options.release` (default `model.release`; null: none): frees a buffer the batch will not read
   * again (the previous pass's cache and logits, a cache just laid out anew) at once instead of at
   * the runtime's next garbage collection. Every pass returns a new cache of rows × positions
   * (megabytes), and left to the collector that memory makes V8 collect over and over; the host
   * supplies how to free it (Node: detach the buffer), since this module imports nothing from Node
   * or the DOM.
   */
  constructor(
    readonly model: DecodeModel,
    options: { release?: ((data: ArrayBufferView) => void) | null } = {},
  ) {
    const why = ContinuousBatch.refusal(model);
    if (why) throw new Error(`continuous batching cannot feed this model: ${why}`);
    const release = options.release === undefined ? model.release : options.release;
    this.release = release ?? (() => {});
  }

  /** Why this batch cannot feed `model`, or null (see {@link continuousRefusal}). */
  static refusal(model: DecodeModel): string | null {
    return continuousRefusal(model);
  }

  /** Requests decoding now. */
  get size(): number {
    return this.members.length;
  }

  /** The longest cache in the batch (positions every row is padded to). */
  get cacheLength(): number {
    return this.length;
  }

  /** The tags of the members, in row order. */
  tags(): T[] {
    return this.members.map((m) => m.tag);
  }

  /**
   * Prefills `joiners` as one left-padded group, reports each one's first token, and places the
   * caches of those not yet finished beside the running rows'. If the prefill throws, the running
   * batch is unchanged.
   */
  async join(joiners: readonly { tag: T; req: DecodeRequest }[], onToken: OnToken<T>): Promise<void> {
    if (joiners.length === 0) return;
    for (const { req } of joiners) {
      if (req.teacherTokens) throw new Error('continuous batching does not teacher-force');
      if (req.promptIds.length === 0) throw new Error('every request needs at least one prompt token');
      if (req.maxNewTokens < 1) throw new Error('every request needs at least one new token');
    }
    const { model } = this;
    const n = joiners.length;
    const width = Math.max(...joiners.map((j) => j.req.promptIds.length));
    const ids = new BigInt64Array(n * width).fill(BigInt(model.padTokenId));
    const pos = new BigInt64Array(n * width);
    const mask = new BigInt64Array(n * width);
    joiners.forEach(({ req }, b) => {
      const pad = width - req.promptIds.length;
      req.promptIds.forEach((id, t) => {
        ids[b * width + pad + t] = BigInt(id);
        pos[b * width + pad + t] = BigInt(t);
        mask[b * width + pad + t] = 1n;
      });
    });
    const feeds = passFeeds(model, ids, pos, mask, n, width, emptyCache(model, n));
    const out = await model.session.run(feeds);
    const logits = logitsOf(out, n, this.scratch, this.release);
    const fresh: Member<T>[] = joiners.map(({ tag, req }) => ({
      tag,
      req,
      rng: req.sampling.kind === 'sample' ? new Mt19937(req.sampling.seed) : null,
      cached: req.promptIds.length,
      next: model.padTokenId,
      chosen: 0,
    }));
    const present = presentOf(model, out);
    const keep = fresh.map((m, b) => this.choose(m, logits.row(b), n, onToken));
    logits.free();
    const rows = keep.flatMap((k, b) => (k ? [b] : []));
    if (rows.length === 0) return this.free(present);
    const longest = Math.max(this.length, ...rows.map((b) => fresh[b]!.cached));
    const running = this.members.length ? (this.live ?? this.members.map((_, i) => i)) : [];
    const old = this.kv;
    this.kv = present.map((p, i) =>
      this.assemble([...(running.length ? [this.part(old[i]!, this.kvRows, this.kvLength, running, this.length)] : []), this.part(p, n, width, rows)], longest),
    );
    this.free(old);
    this.free(present);
    this.members = [...this.members, ...rows.map((b) => fresh[b]!)];
    this.setLayout(this.members.length, longest);
  }

  /** One decode step over every member; finished members leave the batch before it returns. */
  async step(onToken: OnToken<T>): Promise<void> {
    const { model } = this;
    const n = this.members.length;
    if (n === 0) return;
    this.compact();
    const width = this.length + 1;
    const ids = new BigInt64Array(n);
    const pos = new BigInt64Array(n);
    const mask = new BigInt64Array(n * width);
    this.members.forEach((m, b) => {
      ids[b] = BigInt(m.next);
      pos[b] = BigInt(m.cached);
      mask.fill(1n, b * width + width - (m.cached + 1), (b + 1) * width);
    });
    const past = this.kv.map((data) => model.makeTensor(model.kvType, data, [n, model.numKvHeads, this.length, model.headDim]));
    const feeds = passFeeds(model, ids, pos, mask, n, 1, past, width);
    const out = await model.session.run(feeds);
    const logits = logitsOf(out, n, this.scratch, this.release);
    const present = presentOf(model, out);
    this.free(this.kv);
    this.kv = present;
    const keep: number[] = [];
    this.members.forEach((m, b) => {
      m.cached++;
      if (this.choose(m, logits.row(b), n, onToken)) keep.push(b);
    });
    logits.free();
    this.setLayout(n, width);
    if (keep.length < n) this.retain(keep);
  }

  /** Withdraws the members whose tag matches (a client that went away), freeing their cache rows. */
  withdraw(match: (tag: T) => boolean): T[] {
    const gone = this.members.filter((m) => match(m.tag)).map((m) => m.tag);
    if (gone.length) this.retain(this.members.flatMap((m, b) => (match(m.tag) ? [] : [b])));
    return gone;
  }

  /** Drops every member (after a failed step); returns their tags. */
  clear(): T[] {
    const tags = this.tags();
    this.members = [];
    this.free(this.kv);
    this.kv = [];
    this.setLayout(0, 0);
    return tags;
  }

  /** Keeps only members `keep` (indices into the members); their cache rows are compacted before the next pass. */
  private retain(keep: readonly number[]): void {
    const kept = keep.map((b) => this.members[b]!);
    if (kept.length === 0) {
      this.clear();
      return;
    }
    const rows = this.live ?? this.members.map((_, i) => i);
    this.live = keep.map((b) => rows[b]!);
    this.members = kept;
    this.length = Math.max(...kept.map((m) => m.cached));
  }

  /** Lays the cache out for the members (their rows only, `length` positions) if members left since the last pass. */
  private compact(): void {
    if (this.live === null) return;
    const rows = this.live;
    const old = this.kv;
    this.kv = old.map((data) => this.assemble([this.part(data, this.kvRows, this.kvLength, rows, this.length)], this.length));
    this.free(old);
    this.setLayout(this.members.length, this.length);
  }

  private free(buffers: readonly ArrayBufferView[]): void {
    for (const b of buffers) this.release(b);
  }

  /** The cache now holds exactly the members' rows, in order, `length` positions long. */
  private setLayout(rows: number, length: number): void {
    this.kvRows = rows;
    this.kvLength = length;
    this.length = length;
    this.live = null;
  }

  /** Picks the member's next token and reports it; false when the member is finished. */
  private choose(m: Member<T>, row: Float32Array, batchSize: number, onToken: OnToken<T>): boolean {
    const s = m.req.sampling;
    const token = s.kind === 'greedy' ? argmax(row) : sampleToken(row, s, m.rng!);
    const step = m.chosen++;
    m.next = token;
    const finished = m.req.stopIds.includes(token) ? 'stop' : m.chosen >= m.req.maxNewTokens ? 'length' : null;
    let summary: RowSummary | null = null;
    let hash: string | null = null;
    const topK = m.req.topK;
    onToken({
      tag: m.tag,
      step,
      token,
      logits: row,
      get summary() {
        summary ??= summarizeRow(live(row), topK);
        return summary;
      },
      get hash() {
        hash ??= summary ? summary.hash : hashFloat32(live(row));
        return hash;
      },
      batchSize,
      finished,
    });
    return finished === null;
  }

  private part(data: KvData, batch: number, length: number, rows: readonly number[], used = length): KvPart {
    return { data, batch, length, rows, used };
  }

  private assemble(parts: KvPart[], length: number): KvData {
    return assembleRows(parts, this.model.numKvHeads, this.model.headDim, length);
  }
}
