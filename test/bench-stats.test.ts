import { describe, expect, it } from 'vitest';
import { median, quartiles } from '../scripts/bench-stats.ts';

describe('benchmark statistics', () => {
  it('takes the middle value, or the mean of the two middle ones, whatever the input order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('gives the nearest-rank 25th and 75th percentile', () => {
    expect(quartiles([9, 1, 5, 3, 7])).toEqual([3, 7]);
    expect(quartiles(Array.from({ length: 100 }, (_, i) => 100 - i))).toEqual([25, 76]);
  });
});
