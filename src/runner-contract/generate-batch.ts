import { errorCode, errorMessage } from '../errors.ts';
import type { GenerationOutcome, GenerationRequest, RunnerSession } from './types.ts';

/**
 * Runs one batch on a session. A runner's `generate` may throw (a crashed worker, a hung page, a
 * failed forward pass): the batch then becomes an `errored` outcome for each of its requests, so the
 * run goes on. The one place this mapping lives; runners do not repeat it.
 */
export async function generateBatch(session: Pick<RunnerSession, 'generate'>, requests: GenerationRequest[]): Promise<GenerationOutcome[]> {
  try {
    return await session.generate(requests);
  } catch (err) {
    const error = { code: errorCode(err), message: errorMessage(err) };
    return requests.map(() => ({ status: 'errored', error }));
  }
}
