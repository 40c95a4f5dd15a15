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
