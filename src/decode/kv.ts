/**
 * KV-cache rows moved between batches, over plain typed arrays laid out as onnxruntime returns
 * them: `[batch, heads, length, headDim]`. A row's cached positions sit at the right end of the
 * length axis (left padding), so a row keeps its place when the cache is made longer or shorter.
 */

/** A cache tensor's elements: float32, or float16 as raw uint16 bits. */
export type KvData = Float32Array | Uint16Array;

/** One source of rows for {@link assembleRows}. */
export interface KvPart {
  data: KvData;
  /** Rows in `data`. */
  batch: number;
  /** Length (positions) of `data`. */
  length: number;
  /** Which of its rows to take, in order. */
  rows: readonly number[];
  /**
   * How many final positions the taken rows use (default `length`): only these are copied, so a
   * part whose longest row has left copies as the same part trimmed first would.
   */
  used?: number;
}

/**
 * A new cache tensor of `length` positions holding the chosen rows of each part, in order, each
 * right-aligned: the last `min(part.used, length)` positions of a row are copied, the positions
 * before them are zero (they are masked out). The caller makes `length` at least every taken row's
 * cached length, so no cached position is ever cut.
 */
export function assembleRows(parts: readonly KvPart[], heads: number, headDim: number, length: number): KvData {
  const total = parts.reduce((n, p) => n + p.rows.length, 0);
  const first = parts.find((p) => p.rows.length > 0);
  const size = total * heads * length * headDim;
  const out: KvData = first && first.data instanceof Uint16Array ? new Uint16Array(size) : new Float32Array(size);
  let dstRow = 0;
  for (const part of parts) {
    if (part.data.length !== part.batch * heads * part.length * headDim) {
      throw new Error(`a cache part holds ${part.data.length} elements, not ${part.batch}x${heads}x${part.length}x${headDim}`);
    }
    if (part.rows.length > 0 && part.data.constructor !== out.constructor) throw new Error('cache parts mix float32 and float16');
    const keep = Math.min(part.length, part.used ?? part.length, length);
    for (const src of part.rows) {
      if (!(src >= 0 && src < part.batch)) throw new Error(`cache row ${src} is outside a part of ${part.batch} rows`);
      for (let h = 0; h < heads; h++) {
        const from = ((src * heads + h) * part.length + part.length - keep) * headDim;
        const to = ((dstRow * heads + h) * length + length - keep) * headDim;
        out.set(part.data.subarray(from, from + keep * headDim), to);
      }
      dstRow++;
    }
  }
  return out;
}
