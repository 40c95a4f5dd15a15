import { type LoadModelOptions, loadModel } from '../model/load.ts';
import type { LoadedModel } from '../model/types.ts';
import type { ModelChoice } from '../runner-contract/manifest.ts';

export type { ModelChoice } from '../runner-contract/manifest.ts';

/** What to load for a runner: model_file, else precision, else the suite's `model.file`, else the folder's default. */
export function modelOptions(options: ModelChoice, baseFile: string | undefined): LoadModelOptions {
  if (options.model_file) return { onnxFile: options.model_file };
  if (options.precision) return { precision: options.precision };
  return baseFile ? { onnxFile: baseFile } : {};
}

/** One key per distinct file choice, so runners that choose the same file share one loaded model. */
export function modelKey(options: ModelChoice, baseFile: string | undefined): string {
  return JSON.stringify(modelOptions(options, baseFile));
}

/**
 * Loads the model of every local runner before the run, keyed by {@link modelKey}: a missing
 * precision file or a graph detbench cannot feed throws here (DetbenchError), before any record.
 */
export async function loadRunnerModels(
  dir: string,
  baseModel: LoadedModel,
  baseFile: string | undefined,
  choices: readonly ModelChoice[],
): Promise<Map<string, LoadedModel>> {
  const models = new Map<string, LoadedModel>([[modelKey({}, baseFile), baseModel]]);
  for (const choice of choices) {
    const key = modelKey(choice, baseFile);
    if (!models.has(key)) models.set(key, await loadModel(dir, modelOptions(choice, baseFile)));
  }
  return models;
}
