import type { ModelSpec } from '../decode/session-model.ts';
import type { LoadedModel } from '../model/types.ts';

/** The loop's view of a loaded model. Padding uses pad, else eos, else 0 (masked out either way). */
export function specOf(model: LoadedModel): ModelSpec {
  const c = model.config;
  const io = model.io;
  return {
    numLayers: c.numLayers,
    numKvHeads: c.numKvHeads,
    headDim: c.headDim,
    padTokenId: c.padTokenId ?? c.eosTokenIds[0] ?? 0,
    cacheNames: {
      pastKey: io.pastKeyNames,
      pastValue: io.pastValueNames,
      presentKey: io.presentKeyNames,
      presentValue: io.presentValueNames,
    },
    padding: io.padding,
    inputTypes: io.inputTypes,
    cacheLayout: io.cacheLayout,
    extraInputs: io.extraInputs,
  };
}
