/** A two-sided confidence interval. */
export interface Interval {
  lo: number;
  hi: number;
}

/** The standard normal quantile for a two-sided 95% interval (Φ⁻¹(0.975)). */
export const Z95 = 1.959963984540054;

/**
 * The Wilson score interval (Wilson 1927) for a binomial proportion `successes / n`, without
 * continuity correction: the interval Newcombe (1998) calls method 3. Unlike the normal (Wald)
 * interval it stays inside [0, 1] and does not collapse to a point at 0/n or n/n, which is the
 * common case here (a runner that repeats itself 10 times of 10 is not "certainly" deterministic).
 * Null when n is 0.
 */
export function wilson(successes: number, n: number, z = Z95): Interval | null {
  if (!(n > 0)) return null;
  if (successes < 0 || successes > n) throw new RangeError(`wilson: ${successes} successes out of ${n}`);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0/n and n/n the bound is exactly 0 or 1; rounding would otherwise leave 1e-17 behind.
  return { lo: successes === 0 ? 0 : Math.max(0, centre - half), hi: successes === n ? 1 : Math.min(1, centre + half) };
}

/** A counted rate with its 95% Wilson interval: what every rate in a summary carries. */
export interface Rate {
  /** Successes. */
  k: number;
  /** Trials. */
  n: number;
  /** k / n; null when n is 0. */
  rate: number | null;
  ci: Interval | null;
}

/** {@link Rate} of `k` out of `n`. */
export function rateOf(k: number, n: number): Rate {
  return { k, n, rate: n > 0 ? k / n : null, ci: wilson(k, n) };
}
