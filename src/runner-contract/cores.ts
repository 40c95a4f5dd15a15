import { availableParallelism } from 'node:os';

/** Set by `run --jobs N` in each worker process: the cores that worker may count on (cores ÷ N). */
export const JOB_CORES_ENV = 'DETBENCH_JOB_CORES';

/**
 * The cores this process may use: its share when it is one of several `--jobs` workers, else every
 * core. A runner that plans a helper thread on a spare core (the recording worker) asks here, so
 * that two jobs on two cores do not each start one: four busy threads on two cores would slow both.
 */
export function coresForThisProcess(env: NodeJS.ProcessEnv = process.env): number {
  const share = Number(env[JOB_CORES_ENV]);
  return Number.isInteger(share) && share >= 1 ? share : availableParallelism();
}

/** The share of each of `jobs` workers on a machine of `cores` cores (at least one). */
export function jobCores(jobs: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / jobs));
}
