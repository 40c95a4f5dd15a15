import type { ResultRecord } from '../results/record.ts';
import { type AccumulateOptions, MetricsAccumulator } from './accumulate.ts';
import { type PlanOptions, planMetrics } from './plan.ts';
import type { MetricsSummary } from './types.ts';

export { aggregatePairs, aggregateTeacher } from './aggregate.ts';

/** Options of {@link computeMetrics}. */
export interface MetricsOptions extends PlanOptions, AccumulateOptions {}

/**
 * Computes every reproducibility metric from result records alone (any number of files and
 * machines): per-group agreement, TARr@N, divergence against the reference runner and between
 * repetitions, logit drift, bitwise identity and teacher-forced agreement. The records are in
 * memory here; `src/results/stream-metrics.ts` computes the same summary reading them unit by unit.
 */
export function computeMetrics(records: readonly ResultRecord[], opts: MetricsOptions = {}): MetricsSummary {
  const plan = planMetrics(records, opts);
  const acc = new MetricsAccumulator(plan, opts);
  const heads = plan.heads as readonly ResultRecord[];
  for (const unit of plan.units)
    acc.addUnit(
      unit.map((i) => heads[i]!),
      unit,
    );
  return acc.summary();
}
