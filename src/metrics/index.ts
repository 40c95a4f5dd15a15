/** Reproducibility metrics computed from result records alone. */

export { type CompletionCounts, countCompletions, exactMatchRate, tarr } from './agreement.ts';
export { aggregatePairs, aggregateTeacher, computeMetrics, type MetricsOptions } from './compute.ts';
export { fullRowKl, logprobOf, type StepDivergence, type TopK, topKKlLowerBound, topKStep } from './divergence.ts';
export {
  DivergenceAccumulator,
  type DivergenceBasis,
  type DivergenceSummary,
  DP_PERCENTILES,
  KL_PERCENTILES,
  type MeanSe,
  meanAndSe,
  type Percentiles,
  percentileOf,
} from './divergence-stats.ts';
export { groupKey, pickReferences, runnerKeys } from './groups.ts';
export { type Interval, type Rate, rateOf, wilson, Z95 } from './interval.ts';
export { comparePair, DEFAULT_NEAR_TIE, type PairOptions } from './pairs.ts';
export { type RateKind, type RateRow, rateTable } from './rates.ts';
export { type RepetitionStudy, repetitionStudies } from './repetition.ts';
export { completionKey, firstDivergence, sequenceBasis, sequenceOf } from './sequence.ts';
export { finite, mean, median, ratio } from './stats.ts';
export { candidatesAt, compareSteps, type StepComparison, sharedValues, stepMaxDiff, stepView } from './steps.ts';
export { compareTeacherForced } from './teacher.ts';
export { type CaptureSource, teacherDivergence } from './teacher-divergence.ts';
export type * from './types.ts';
