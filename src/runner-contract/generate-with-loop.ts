import { decode } from '../decode/loop.ts';
import type { DecodeModel } from '../decode/types.ts';
import type { GenerationOutcome, GenerationRequest } from './types.ts';

/**
 * Runs one batch through the shared decode loop. A failed batch throws (the executor records it as
 * an `errored` record per request), after the rows it had handed to a recorder are dropped.
 */
export async function generateWithLoop(model: DecodeModel, requests: GenerationRequest[]): Promise<GenerationOutcome[]> {
  try {
    const results = await decode(model, requests);
    return results.map((generation) => ({ status: 'completed', generation }));
  } catch (err) {
    // Rows already handed to a recorder belong to the failed batch: collect and drop them.
    await model.recorder?.drain().catch(() => []);
    throw err;
  }
}
