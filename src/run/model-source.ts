import { resolve } from 'node:path';
import { DetbenchError } from '../errors.ts';
import { onnxFileForDtype } from '../model/hub/dtype.ts';
import type { HubProgress } from '../model/hub/fetch-watch.ts';
import { openHubModel, type HubProvenance, type HubSnapshot } from '../model/hub/snapshot.ts';
import { atSuiteLine, type LoadedSuite } from '../suite/load.ts';

/** Where a suite's model lives on disk, and, for a Hub model, how to fetch more of its files. */
export interface ModelSource {
  /** The model folder: the suite's own, or the Hub cache's snapshot folder. */
  dir: string;
  /** The ONNX file runners use unless their options name another (precision, model_file); unset: the folder's own default (its layout, transformers.js_config.dtype). */
  baseFile: string | undefined;
  hub?: HubSnapshot;
  /** The suite that named a Hub model, for error messages. */
  suite?: LoadedSuite;
}

/**
 * Resolves the suite's `model` to a folder: a path relative to the suite, or a Hub repo fetched
 * into the shared cache (configuration and tokenizer now; ONNX files when `fetchFiles` asks).
 */
export async function openModelSource(
  suite: LoadedSuite,
  onProgress?: (p: HubProgress & { repo: string }) => void,
): Promise<ModelSource | undefined> {
  const model = suite.model;
  if (!model) return undefined;
  if ('path' in model) return { dir: resolve(suite.dir, model.path), baseFile: model.file };
  const hub = await inSuite(suite, () => openHubModel(model.hub, model.revision, onProgress ? { onProgress: (p) => onProgress({ ...p, repo: model.hub }) } : {}));
  return { dir: hub.dir, baseFile: model.file ?? onnxFileForDtype(model.dtype ?? 'fp32'), hub, suite };
}

/** Hub failures name the suite file and its `model` field, like every other suite error. */
async function inSuite<T>(suite: LoadedSuite, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof DetbenchError)) throw err;
    throw atSuiteLine(err, suite.at(['model']));
  }
}

/** Makes every ONNX file the runners will open present in the Hub cache, before any record is written. */
export async function fetchFiles(source: ModelSource | undefined, files: Iterable<string>): Promise<void> {
  if (!source?.hub) return;
  const hub = source.hub;
  for (const file of new Set(files)) await inSuite(source.suite!, () => hub.ensure(file));
}

/** The Hub provenance of a source, for records; undefined for a local folder. */
export function hubProvenance(source: ModelSource | undefined): HubProvenance | undefined {
  return source?.hub?.provenance;
}
