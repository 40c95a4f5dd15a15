/** Reproducibility metrics computed from result records alone. */
export { computeMetrics, aggregatePairs, aggregateTeacher, type MetricsOptions } from './compute.ts';
export { countCompletions, exactMatchRate, tarr, type CompletionCounts } from './agreement.ts';
export { groupKey, runnerKeys, pickReferences } from './groups.ts';
export { comparePair, DEFAULT_NEAR_TIE, type PairOptions } from './pairs.ts';
export { completionKey, firstDivergence, sequenceBasis, sequenceOf } from './sequence.ts';
export { candidatesAt, compareSteps, sharedValues, stepMaxDiff, stepView, type StepComparison } from './steps.ts';
export { compareTeacherForced } from './teacher.ts';
export { finite, mean, median, ratio } from './stats.ts';
export type * from './types.ts';
export { wilson, rateOf, Z95, type Interval, type Rate } from './interval.ts';
export { fullRowKl, topKKlLowerBound, topKStep, logprobOf, type StepDivergence, type TopK } from './divergence.ts';
export {
  DivergenceAccumulator,
  meanAndSe,
  percentileOf,
  KL_PERCENTILES,
  DP_PERCENTILES,
  type DivergenceBasis,
  type DivergenceSummary,
  type MeanSe,
  type Percentiles,
} from './divergence-stats.ts';
export { teacherDivergence, type CaptureSource } from './teacher-divergence.ts';
export { rateTable, type RateKind, type RateRow } from './rates.ts';
export { repetitionStudies, type RepetitionStudy } from './repetition.ts';
