import type { CompletedRecord } from '../results/record.ts';
import { sequenceBasis } from './sequence.ts';
import { compareSteps } from './steps.ts';
import { type CaptureSource, teacherDivergence } from './teacher-divergence.ts';
import type { TeacherForcedComparison } from './types.ts';

export type { CaptureSource } from './teacher-divergence.ts';

/**
 * Compares a teacher-forced record with the reference record it was fed. Both saw the same inputs
 * at every step, so the whole sequence is comparable: argmax agreement (the runner's own best
 * candidate, `steps.topIds[i][0]`, against the reference's best candidate at the same step, which
 * on greedy settings is the reference token: what the kernels agree on), the sampled-choice
 * agreement apart (its own draw against the reference token: sampling luck mixed in), per-step
 * drift of the shared top values, and bitwise-equal rows,
 * and the distribution divergence (KL, Δp, same top) of every step.
 */
export function compareTeacherForced(
  tf: CompletedRecord,
  reference: CompletedRecord,
  labels: { group: string; runner: string; reference: string },
  capture?: CaptureSource,
): TeacherForcedComparison {
  const basis = sequenceBasis([tf, reference]);
  const own = basis === 'ids' ? (tf.steps.token.length ? tf.steps.token : tf.tokens) : tf.tokenTexts;
  const refSeq = basis === 'ids' ? reference.tokens : reference.tokenTexts;
  const steps = Math.min(own.length, refSeq.length);
  const disagreements: number[] = [];
  for (let i = 0; i < steps; i++) if (own[i] !== refSeq[i]) disagreements.push(i);
  const agree = steps - disagreements.length;
  // Each side's best candidate as recorded (ties to the lower id, as argmax). Both saw the same
  // inputs, so on greedy settings the reference's is its token; on sampled ones it is what the
  // reference's kernels ranked first, which a draw may not have taken.
  const best = (steps: CompletedRecord['steps'], seq: readonly (number | string)[], i: number) =>
    basis === 'ids' ? (steps.topIds?.[i]?.[0] ?? seq[i]) : (steps.topTokens?.[i]?.[0] ?? seq[i]);
  const argmaxDisagreements: number[] = [];
  for (let i = 0; i < steps; i++) if (best(tf.steps, own, i) !== best(reference.steps, refSeq, i)) argmaxDisagreements.push(i);
  const argmaxAgree = steps - argmaxDisagreements.length;
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
    argmaxAgreeSteps: argmaxAgree,
    argmaxAgreement: steps ? argmaxAgree / steps : null,
    argmaxDisagreements,
    stepMaxDiff: perStep ?? [],
    values: drift.values,
    maxDiff: drift.max,
    meanDiff: drift.mean,
    bitwise,
    divergence: basis === 'ids' ? teacherDivergence(tf, reference, steps, capture) : { basis: 'top-k', kl: [], dp: [], sameTop: [] },
  };
}
