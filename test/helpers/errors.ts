import { DetbenchError } from '../../src/errors.ts';

/** The DetbenchError that `fn` throws; fails the test if it throws nothing or something else. */
export function detbenchError(fn: () => unknown): DetbenchError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DetbenchError) return err;
    throw err;
  }
  throw new Error('expected a DetbenchError');
}

/** The DetbenchError that `p` rejects with; fails the test if it resolves or rejects otherwise. */
export async function detbenchRejection(p: Promise<unknown>): Promise<DetbenchError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DetbenchError) return err;
    throw err;
  }
  throw new Error('expected a DetbenchError');
}
