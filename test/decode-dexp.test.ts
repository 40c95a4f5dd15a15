import { describe, expect, it } from 'vitest';
import { dexp, dexpSum, dexpWeights, dlog, Mt19937 } from '../src/decode/index.ts';

describe('dexp and dlog (portable exp and log)', () => {
  it('are within two ulps of the true values', () => {
    const rng = new Mt19937(5);
    for (let i = 0; i < 20_000; i++) {
      const x = -rng.random() * 700;
      expect(Math.abs(dexp(x) - Math.exp(x)) / Math.exp(x)).toBeLessThan(4.5e-16);
      const s = 1 + rng.random() * 2 ** (rng.random() * 60);
      expect(Math.abs(dlog(s) - Math.log(s))).toBeLessThanOrEqual(2 * Number.EPSILON * Math.abs(Math.log(s)) + 1e-300);
    }
  });

  it('are exact where the values are: dexp(0) = 1, dlog(1) = 0, dlog(2^k) = k ln 2 as split', () => {
    expect(dexp(0)).toBe(1);
    expect(dexp(-0)).toBe(1);
    expect(dlog(1)).toBe(0);
    expect(dlog(2)).toBe(Math.LN2);
  });

  it('give 0 for -Infinity, NaN and below -707, and NaN outside dlog domain', () => {
    expect([dexp(-Infinity), dexp(Number.NaN), dexp(-707.0000001), dexp(-1e300)]).toEqual([0, 0, 0, 0]);
    expect(dexp(-707)).toBeGreaterThan(0);
    for (const s of [0, -1, Infinity, Number.NaN, 1e-310]) expect(dlog(s)).toBeNaN();
  });

  it('the in-line loops give exactly what dexp gives, element by element and summed in their documented order', () => {
    const rng = new Mt19937(9);
    const row = Float32Array.from({ length: 5000 }, (_, i) =>
      i % 97 === 0 ? -Infinity : i % 89 === 0 ? Number.NaN : i % 83 === 0 ? Infinity : (rng.random() - 0.9) * 60,
    );
    const m = 6;
    // dexpSum is for rows without +Infinity (summarizeRow takes another path for those).
    const noPlusInf = row.map((v) => (v === Infinity ? 1 : v));
    // Four lanes: value i to lane i mod 4, then (lane0 + lane2) + (lane1 + lane3).
    const lanes = [0, 0, 0, 0];
    for (const [i, v] of noPlusInf.entries()) lanes[i % 4]! += dexp(v - m);
    expect(dexpSum(noPlusInf, m)).toBe(lanes[0]! + lanes[2]! + (lanes[1]! + lanes[3]!));
    const w = new Float64Array(row.length);
    const scale = 1 / 0.7;
    let total = 0;
    const want = Array.from(row, (v) => (Number.isFinite(v) ? dexp(v * scale - m) : 0));
    for (const x of want) total += x;
    expect(dexpWeights(row, scale, m, w)).toBe(total);
    expect(Array.from(w)).toEqual(want);
  });
});
