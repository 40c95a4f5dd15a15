import type { CompletedRecord } from '../results/record.ts';
import { sequenceBasis } from './sequence.ts';
import { compareSteps } from './steps.ts';
import { teacherDivergence, type CaptureSource } from './teacher-divergence.ts';
import type { TeacherForcedComparison } from './types.ts';

export type { CaptureSource } from './teacher-divergence.ts';

/**
 * Compares a teacher-forced record with the reference record it was fed. Both saw the same inputs
 * at every step, so the whole sequence is comparable: top-1 agreement (the model's own choice
 * against the reference token), per-step drift of the shared top values, bitwise-equal rows, and
 * the distribution divergence (KL, Δp, same top) of every step.
 */
export function compareTeacherForced(
  tf: CompletedRecord,
  reference: CompletedRecord,
  labels: { group: string; runner: string; reference: string },
  capture?: CaptureSource,
): TeacherForcedComparison {
  const basis = sequenceBasis([tf, reference]);
  const own = basis === 'ids' ? (tf.steps.token?.length ? tf.steps.token : tf.tokens) : tf.tokenTexts;
  const refSeq = basis === 'ids' ? reference.tokens : reference.tokenTexts;
  const steps = Math.min(own.length, refSeq.length);
  const disagreements: number[] = [];
  for (let i = 0; i < steps; i++) if (own[i] !== refSeq[i]) disagreements.push(i);
  const agree = steps - disagreements.length;
  const { drift, bitwise, perStep } = compareSteps(tf.steps, reference.steps, steps, basis, true);
  return {
    recordId: tf.id,
    referenceId: reference.id,
    group: labels.group,
    runner: labels.runner,
    reference: labels.reference,
    steps,
    agreeSteps: agree,
    top1Agreement: steps ? agree / steps : null,
    disagreements,
    stepMaxDiff: perStep ?? [],
    values: drift.values,
    maxDiff: drift.max,
    meanDiff: drift.mean,
    bitwise,
    divergence: basis === 'ids' ? teacherDivergence(tf, reference, steps, capture) : { basis: 'top-k', kl: [], dp: [], sameTop: [] },
  };
}
