/**
 * The n-gram table of the markov control runner: how often each token followed each context of
 * up to `order - 1` tokens in the training corpus. Plain integers, so every platform reads the
 * very same table; the byte layout is written by scripts/build-markov.ts and read here.
 *
 * Layout (little-endian): "DBNG", u32 version (1), u32 vocab, u32 order; then for each order
 * k = 1..order: u32 n, then n × (k − 1) u16 context tokens (row-major), n u16 next tokens,
 * n u32 counts; entries sorted by context, then next token.
 */

const MAGIC = 0x474e4244; // "DBNG" read as a little-endian u32
const VERSION = 1;

/** Counts of one order: for each context, the tokens that followed it and how often. */
export interface NgramLevel {
  /** Context key (see {@link contextKey}) → the continuations, in token order. */
  byContext: Map<number, { next: Uint16Array; counts: Uint32Array; total: number }>;
  entries: number;
}

/** A decoded table: unigram counts plus one level per context length 1..order-1. */
export interface NgramTable {
  vocab: number;
  order: number;
  /** Unigram counts, indexed by token id. */
  unigram: Uint32Array;
  unigramTotal: number;
  /** levels[k] holds contexts of k tokens (levels[0] is unused). */
  levels: NgramLevel[];
}

/** One number per context of up to two tokens: ids below 65,536 fit exactly in a double. */
export function contextKey(ctx: readonly number[]): number {
  let k = ctx.length;
  for (const t of ctx) k = k * 65536 + t;
  return k;
}

/** Counted n-grams by order: entries[k] are [context..., next, count] rows with k context tokens. */
export type NgramCounts = { vocab: number; order: number; entries: number[][][] };

/** Encodes counts in the layout above; rows must already be sorted by context, then next. */
export function encodeTable(c: NgramCounts): Uint8Array {
  let bytes = 16;
  for (let k = 0; k < c.order; k++) bytes += 4 + (c.entries[k]?.length ?? 0) * (2 * k + 2 + 4);
  const buf = new ArrayBuffer(bytes);
  const view = new DataView(buf);
  let o = 0;
  const u32 = (v: number) => {
    view.setUint32(o, v, true);
    o += 4;
  };
  const u16 = (v: number) => {
    view.setUint16(o, v, true);
    o += 2;
  };
  u32(MAGIC);
  u32(VERSION);
  u32(c.vocab);
  u32(c.order);
  for (let k = 0; k < c.order; k++) {
    const rows = c.entries[k] ?? [];
    u32(rows.length);
    for (const r of rows) for (let j = 0; j < k; j++) u16(r[j]!);
    for (const r of rows) u16(r[k]!);
    for (const r of rows) u32(r[k + 1]!);
  }
  return new Uint8Array(buf);
}

/** Decodes a table; throws with what is wrong when the bytes are not one. */
export function decodeTable(bytes: Uint8Array): NgramTable {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  const need = (n: number) => {
    if (o + n > bytes.byteLength) throw new Error(`n-gram table truncated at byte ${o} (needs ${n} more)`);
  };
  const u32 = () => {
    need(4);
    o += 4;
    return view.getUint32(o - 4, true);
  };
  if (u32() !== MAGIC) throw new Error('not an n-gram table (magic "DBNG" missing)');
  const version = u32();
  if (version !== VERSION) throw new Error(`n-gram table version ${version}, this reader reads ${VERSION}`);
  const vocab = u32();
  const order = u32();
  if (order < 1 || order > 3) throw new Error(`n-gram table of order ${order}: 1 to 3 supported`);
  const unigram = new Uint32Array(vocab);
  let unigramTotal = 0;
  const levels: NgramLevel[] = [{ byContext: new Map(), entries: 0 }];
  for (let k = 0; k < order; k++) {
    const n = u32();
    need(n * (2 * k + 6));
    const ctxAt = o;
    const nextAt = ctxAt + n * k * 2;
    const countAt = nextAt + n * 2;
    o = countAt + n * 4;
    const ctx = (i: number, j: number) => view.getUint16(ctxAt + (i * k + j) * 2, true);
    const next = (i: number) => view.getUint16(nextAt + i * 2, true);
    const count = (i: number) => view.getUint32(countAt + i * 4, true);
    if (k === 0) {
      for (let i = 0; i < n; i++) {
        const t = next(i);
        if (t >= vocab) throw new Error(`n-gram table: token ${t} outside the vocabulary of ${vocab}`);
        unigram[t] = count(i);
        unigramTotal += count(i);
      }
      continue;
    }
    const byContext: NgramLevel['byContext'] = new Map();
    for (let i = 0; i < n; ) {
      const c: number[] = [];
      for (let j = 0; j < k; j++) c.push(ctx(i, j));
      let end = i + 1;
      while (end < n && c.every((t, j) => ctx(end, j) === t)) end++;
      const nx = new Uint16Array(end - i);
      const cs = new Uint32Array(end - i);
      let total = 0;
      for (let r = i; r < end; r++) {
        nx[r - i] = next(r);
        cs[r - i] = count(r);
        total += count(r);
      }
      byContext.set(contextKey(c), { next: nx, counts: cs, total });
      i = end;
    }
    levels.push({ byContext, entries: n });
  }
  if (o !== bytes.byteLength) throw new Error(`n-gram table has ${bytes.byteLength - o} trailing bytes`);
  return { vocab, order, unigram, unigramTotal, levels };
}
