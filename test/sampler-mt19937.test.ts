import { describe, expect, it } from 'vitest';
import { Mt19937 } from '../src/decode/mt19937.ts';

// Printed by CPython 3.11: [random.Random(s).random() for _ in range(3)].
const PYTHON: Record<number, number[]> = {
  0: [0.8444218515250481, 0.7579544029403025, 0.420571580830845],
  1: [0.13436424411240122, 0.8474337369372327, 0.763774618976614],
  42: [0.6394267984578837, 0.025010755222666936, 0.27502931836911926],
  4294967301: [0.15727238718789782, 0.2824866316461999, 0.6044540318498407],
  123456789: [0.6414006161858726, 0.5421892680969495, 0.9931750662832721],
};

describe('Mt19937 equals Python random.Random', () => {
  for (const [seed, draws] of Object.entries(PYTHON)) {
    it(`seed ${seed}`, () => {
      const rng = new Mt19937(Number(seed));
      expect([rng.random(), rng.random(), rng.random()]).toEqual(draws);
    });
  }

  it('gives independent generators per instance (no global state)', () => {
    const a = new Mt19937(42);
    const b = new Mt19937(42);
    a.random();
    expect(b.random()).toBe(0.6394267984578837);
  });

  it('rejects seeds Python would treat differently', () => {
    expect(() => new Mt19937(-1)).toThrow(RangeError);
    expect(() => new Mt19937(1.5)).toThrow(RangeError);
  });
});
