import { decode } from '../decode/loop.ts';
import type { DecodeModel } from '../decode/types.ts';
import { errorCode, errorMessage } from '../errors.ts';
import type { GenerationOutcome, GenerationRequest } from './types.ts';

/**
 * Runs one batch through the shared decode loop; a failure of the batch becomes an `errored`
 * outcome for each of its requests instead of an exception, so the run goes on.
 */
export async function generateWithLoop(model: DecodeModel, requests: GenerationRequest[]): Promise<GenerationOutcome[]> {
  try {
    const results = await decode(model, requests);
    return results.map((generation) => ({ status: 'completed', generation }));
  } catch (err) {
    // Rows already handed to a recorder belong to the failed batch: collect and drop them.
    await model.recorder?.drain().catch(() => []);
    const error = { code: errorCode(err), message: errorMessage(err) };
    return requests.map(() => ({ status: 'errored', error }));
  }
}
