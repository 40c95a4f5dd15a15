import { describe, expect, it } from 'vitest';
import { halfToFloat32, hashFloat32, summarizeRow } from '../src/decode/logits.ts';

describe('summarizeRow', () => {
  const row = new Float32Array([0.5, 3, -1, 3, 2.5, Number.NEGATIVE_INFINITY]);

  it('lists the top candidates best first, ties to the lower id, with float64 log-softmax', () => {
    const s = summarizeRow(row, 3);
    expect(s.ids).toEqual([1, 3, 4]);
    expect(s.logits).toEqual([3, 3, 2.5]);
    const lse = Math.log([0.5, 3, -1, 3, 2.5].reduce((a, x) => a + Math.exp(x), 0));
    for (const [i, lp] of s.logprobs.entries()) expect(lp).toBeCloseTo(s.logits[i]! - lse, 12);
    expect(s.margin).toBe(0);
  });

  it('hashes the exact bits: equal rows agree, a one-ulp change does not', () => {
    const a = summarizeRow(row, 2).hash;
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(hashFloat32(row)).toBe(a);
    const b = Float32Array.from(row);
    new Uint32Array(b.buffer)[0]! += 1;
    expect(hashFloat32(b)).not.toBe(a);
    // -0 and +0 compare equal as numbers but are different bits.
    expect(hashFloat32(new Float32Array([0]))).not.toBe(hashFloat32(new Float32Array([-0])));
  });

  it('measures the margin between the best two logits', () => {
    expect(summarizeRow(new Float32Array([1, 4, 2.5]), 2).margin).toBe(1.5);
  });
});

describe('halfToFloat32', () => {
  it('decodes normal, subnormal and special halves', () => {
    const halves = Uint16Array.from([0x3c00, 0xc000, 0x0001, 0x7c00, 0xfc00, 0x0000, 0x7bff]);
    const out = halfToFloat32(halves, new Float32Array(halves.length));
    expect(Array.from(out)).toEqual([1, -2, 2 ** -24, Infinity, -Infinity, 0, 65504]);
    expect(Number.isNaN(halfToFloat32(Uint16Array.of(0x7e00), new Float32Array(1))[0])).toBe(true);
  });
});

describe('summarizeRow with NaN and infinities', () => {
  it('ranks NaN as -Infinity (reported as NaN), and leaves non-finite logits out of the log-sum-exp', () => {
    const s = summarizeRow(new Float32Array([Number.NaN, 3, Number.NEGATIVE_INFINITY, 5, 3]), 4);
    expect(s.ids).toEqual([3, 1, 4, 0]);
    expect(s.logits).toEqual([5, 3, 3, Number.NaN]);
    expect(s.margin).toBe(2);
    const lse = 5 + Math.log(1 + 2 * Math.exp(-2));
    expect(s.logprobs[0]).toBeCloseTo(5 - lse, 14);
    const inf = summarizeRow(new Float32Array([1, Number.POSITIVE_INFINITY, 2]), 3);
    expect(inf.ids).toEqual([1, 2, 0]);
    // The finite maximum (2) is the reference: +Infinity stays +Infinity, the others are finite.
    expect(inf.logprobs[0]).toBe(Number.POSITIVE_INFINITY);
    expect(inf.logprobs[1]).toBeCloseTo(-Math.log(1 + Math.exp(-1)), 14);
  });
});
