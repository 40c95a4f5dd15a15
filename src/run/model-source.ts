import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DetbenchError } from '../errors.ts';
import { parseGenaiConfig } from '../model/genai-config.ts';
import type { HubProgress } from '../model/hub/fetch-watch.ts';
import { type HubProvenance, type HubSnapshot, openHubModel } from '../model/hub/snapshot.ts';
import { defaultDtype, hfCandidates, isDtype } from '../model/load.ts';
import { DTYPE_NAMES, type DtypeName } from '../model/precision.ts';
import { atSuiteLine, type LoadedSuite } from '../suite/load.ts';
import type { ModelChoice } from './models.ts';

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
export async function openModelSource(suite: LoadedSuite, onProgress?: (p: HubProgress & { repo: string }) => void): Promise<ModelSource | undefined> {
  const model = suite.model;
  if (!model) return undefined;
  if ('path' in model) return { dir: resolve(suite.dir, model.path), baseFile: model.file };
  const hub = await inSuite(suite, () =>
    openHubModel(model.hub, model.revision, onProgress ? { onProgress: (p) => onProgress({ ...p, repo: model.hub }) } : {}),
  );
  return { dir: hub.dir, baseFile: model.file ?? (model.dtype ? hubDtypeFile(hub, model.dtype) : undefined), hub, suite };
}

/** The file of a dtype in a Hub repo: the first of the Hugging Face layout's names that the repo has (else the first, which `ensure` then reports missing). */
function hubDtypeFile(hub: HubSnapshot, dtype: DtypeName): string {
  const candidates = hfCandidates(dtype);
  return candidates.find((f) => hub.has(f)) ?? candidates[0]!;
}

/**
 * The ONNX file a Hub repo's own configuration names, decided as loadModel decides it for a folder
 * but from the Hub's listing, before any ONNX file is downloaded: an ONNX Runtime GenAI repo's
 * decoder.filename, else transformers.js_config.dtype (fp32 when unset).
 */
function hubDefaultFile(hub: HubSnapshot): string {
  const json = (f: string) => JSON.parse(readFileSync(join(hub.dir, f), 'utf8')) as Record<string, unknown>;
  const hasOnnxDir = ['fp32', ...DTYPE_NAMES].some((d) => hfCandidates(d as DtypeName).some((f) => hub.has(f)));
  if (hub.has('genai_config.json') && (!hub.has('config.json') || !hasOnnxDir))
    return parseGenaiConfig(json('genai_config.json'), join(hub.dir, 'genai_config.json')).file;
  const dtype = hub.has('config.json') ? defaultDtype(json('config.json')) : undefined;
  // An unknown dtype name is loadModel's to refuse, with its own message: fetch the fp32 file meanwhile.
  return hubDtypeFile(hub, dtype && isDtype(dtype) ? dtype : 'fp32');
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

/**
 * Makes the ONNX file of every runner's choice (model_file, precision, else the suite's model
 * file, else the repo's own default) present in the Hub cache, with its external data, before
 * any record is written. A local folder needs nothing.
 */
export async function fetchRunnerFiles(source: ModelSource | undefined, choices: readonly ModelChoice[]): Promise<void> {
  const hub = source?.hub;
  if (!hub) return;
  const fileOf = (c: ModelChoice) => c.model_file ?? (c.precision ? hubDtypeFile(hub, c.precision) : (source.baseFile ?? hubDefaultFile(hub)));
  const files = new Set([fileOf({}), ...choices.map(fileOf)]);
  for (const file of files) await inSuite(source.suite!, () => hub.ensure(file));
}

/**
 * A Hub repo as a model folder for one file choice, for `detbench inspect <owner/name>`: the
 * configuration, the tokenizer and the chosen ONNX file (with its external data) in the cache.
 */
export async function openHubFolder(
  repo: string,
  revision: string,
  choice: ModelChoice,
  onProgress?: (p: HubProgress) => void,
): Promise<{ dir: string; provenance: HubProvenance }> {
  const hub = await openHubModel(repo, revision, onProgress ? { onProgress } : {});
  await hub.ensure(choice.model_file ?? (choice.precision ? hubDtypeFile(hub, choice.precision) : hubDefaultFile(hub)));
  return { dir: hub.dir, provenance: hub.provenance };
}

/** The Hub provenance of a source, for records; undefined for a local folder. */
export function hubProvenance(source: ModelSource | undefined): HubProvenance | undefined {
  return source?.hub?.provenance;
}
