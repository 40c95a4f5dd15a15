/**
 * The report's statistics: every rate with its 95% Wilson interval, and the repetition study's
 * headline with its split positions. (KL divergence statistics travel in `teacher.byPair`.)
 */
import { type RateRow, rateTable } from '../src/metrics/rates.ts';
import { type RepetitionStudy, repetitionStudies } from '../src/metrics/repetition.ts';
import type { MetricsSummary } from '../src/metrics/types.ts';

/** Repetition studies listed on the page at most (the headline is always the first). */
export const STUDY_ROWS = 200;

/** A repetition study is the headline when one request ran at least this many times. */
export const STUDY_MIN_REPETITIONS = 10;

/** What the statistics section shows. */
export interface StatisticsData {
  rates: RateRow[];
  /** The (group, runner) with the most repetitions, when it has at least {@link STUDY_MIN_REPETITIONS}. */
  headline: RepetitionStudy | null;
  /** Most repetitions first, capped at {@link STUDY_ROWS}. */
  studies: RepetitionStudy[];
  studiesTotal: number;
}

/** Builds the statistics data from a metrics summary. */
export function buildStatistics(m: MetricsSummary): StatisticsData {
  const studies = repetitionStudies(m);
  const first = studies[0];
  return {
    rates: rateTable(m),
    headline: first && first.n >= STUDY_MIN_REPETITIONS ? first : null,
    studies: studies.slice(0, STUDY_ROWS),
    studiesTotal: studies.length,
  };
}
