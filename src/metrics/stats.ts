/** Median of the finite values; null when there are none. */
export function median(values: readonly (number | null | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Mean of the finite values; null when there are none. */
export function mean(values: readonly (number | null | undefined)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const x of values) {
    if (typeof x === 'number' && Number.isFinite(x)) {
      sum += x;
      n++;
    }
  }
  return n ? sum / n : null;
}

/** `num / den`, null when `den` is 0. */
export function ratio(num: number, den: number): number | null {
  return den > 0 ? num / den : null;
}

/** The number itself when finite, else null (JSON has no Infinity or NaN). */
export function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
