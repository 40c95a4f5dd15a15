import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DetbenchError } from '../errors.ts';
import { parseModelConfig } from './config.ts';
import { modelIOFor, staticLogitsVocab } from './io-check.ts';
import { readOnnxIO } from './onnx-io.ts';
import { HfTextTokenizer } from './tokenizer.ts';
import type { LoadedModel } from './types.ts';

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** The ONNX file, relative to the model folder (default `onnx/model.onnx`). */
  onnxFile?: string;
}

/** Whether `file` exists; a folder where a file belongs is an error here, not a later EISDIR. */
async function exists(file: string): Promise<boolean> {
  const st = await stat(file).catch(() => undefined);
  if (st && !st.isFile()) throw new DetbenchError('MODEL_FILE_INVALID', `${file}: is a folder (or another non-file); expected a file`, { file });
  return st !== undefined;
}

async function readJson(file: string, code: string): Promise<object> {
  const text = await readFile(file, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new DetbenchError(code, `${file}: invalid JSON: ${(cause as Error).message}`, { cause, file });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DetbenchError(code, `${file}: expected a JSON object`, { file });
  }
  return value;
}

/** One SHA-256 over the files' bytes, in order. */
async function sha256(files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) await pipeline(createReadStream(file), hash, { end: false });
  return hash.digest('hex');
}

/**
 * The external-data files the graph names, as full paths. A location must stay inside the ONNX
 * file's folder (onnx's own rule): an absolute path or one that climbs out is a corrupt model.
 */
async function externalDataFiles(onnxPath: string, locations: readonly string[]): Promise<string[]> {
  const base = path.dirname(path.resolve(onnxPath));
  const files: string[] = [];
  for (const location of locations) {
    const full = path.resolve(base, location);
    if (path.isAbsolute(location) || !full.startsWith(base + path.sep)) {
      throw new DetbenchError('MODEL_CORRUPT', `${onnxPath}: external data "${location}" lies outside the model's folder`, { file: onnxPath });
    }
    if (!(await exists(full))) {
      throw new DetbenchError('MODEL_FILE_MISSING', `${full}: missing external data of ${onnxPath}`, { file: full });
    }
    files.push(full);
  }
  return files;
}

/** tokenizer_config.json `chat_template` (a string, or named templates), else chat_template.jinja. */
async function chatTemplateOf(tokenizerConfig: Record<string, unknown>, dir: string): Promise<string | undefined> {
  const t = tokenizerConfig.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t as { name?: unknown; template?: unknown }[];
    const pick = named.find((x) => x.name === 'default') ?? named[0];
    if (typeof pick?.template === 'string') return pick.template;
  }
  const jinja = path.join(dir, 'chat_template.jinja');
  return (await exists(jinja)) ? readFile(jinja, 'utf8') : undefined;
}

/**
 * Loads and cross-checks a model folder in the Hugging Face / transformers.js layout:
 * config.json, tokenizer.json, tokenizer_config.json, the ONNX file (and generation_config.json
 * when present). Throws DetbenchError naming the file: MODEL_FILE_MISSING, MODEL_CONFIG_INVALID,
 * MODEL_TOKENIZER_INVALID, MODEL_CORRUPT, MODEL_IO_MISMATCH (cache inputs vs layers, kv heads,
 * head dim) or MODEL_VOCAB_MISMATCH (more tokens than the logits or vocab_size hold).
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const onnxFile = options.onnxFile ?? 'onnx/model.onnx';
  const file = (name: string) => path.join(dir, name);
  const configPath = file('config.json');
  const tokenizerPath = file('tokenizer.json');
  const tokenizerConfigPath = file('tokenizer_config.json');
  const onnxPath = file(onnxFile);
  // model_file comes from a suite: it may not name a file outside the model folder (as external data may not).
  const root = path.resolve(dir);
  if (path.isAbsolute(onnxFile) || !path.resolve(root, onnxFile).startsWith(root + path.sep)) {
    throw new DetbenchError('MODEL_FILE_OUTSIDE', `${onnxFile}: lies outside the model folder ${dir}; expected a file inside it`, { file: onnxPath });
  }
  const generationPath = file('generation_config.json');

  const required = [configPath, tokenizerPath, tokenizerConfigPath, onnxPath];
  const missing = (await Promise.all(required.map(async (f) => ((await exists(f)) ? null : f)))).filter((f) => f !== null);
  if (missing.length > 0) {
    throw new DetbenchError('MODEL_FILE_MISSING', `${missing.join(', ')}: missing from model folder ${dir}`, { file: missing[0]! });
  }

  const rawConfig = await readJson(configPath, 'MODEL_CONFIG_INVALID');
  const generationConfig = (await exists(generationPath)) ? await readJson(generationPath, 'MODEL_CONFIG_INVALID') : undefined;
  const config = parseModelConfig(rawConfig, { file: configPath, generationConfig, generationFile: generationPath });

  const tokenizerJson = await readJson(tokenizerPath, 'MODEL_TOKENIZER_INVALID');
  const tokenizerConfig = (await readJson(tokenizerConfigPath, 'MODEL_TOKENIZER_INVALID')) as Record<string, unknown>;
  let tokenizer: HfTextTokenizer;
  try {
    tokenizer = new HfTextTokenizer(tokenizerJson, tokenizerConfig);
  } catch (cause) {
    throw new DetbenchError('MODEL_TOKENIZER_INVALID', `${tokenizerPath}: cannot build the tokenizer: ${(cause as Error).message}`, {
      cause,
      file: tokenizerPath,
    });
  }

  const graph = await readOnnxIO(onnxPath);
  const io = modelIOFor(graph, config, { onnx: onnxPath, config: configPath });

  const vocabError = (message: string, f: string, field?: string) =>
    new DetbenchError('MODEL_VOCAB_MISMATCH', message, { file: f, ...(field ? { field } : {}) });
  const logitsVocab = staticLogitsVocab(graph);
  if (logitsVocab !== undefined && logitsVocab !== config.vocabSize) {
    throw vocabError(`${onnxPath}: logits have ${logitsVocab} entries but ${configPath} vocab_size is ${config.vocabSize}`, onnxPath, 'vocab_size');
  }
  if (logitsVocab !== undefined && tokenizer.vocabSize > logitsVocab) {
    throw vocabError(`${tokenizerPath}: ${tokenizer.vocabSize} tokens but the logits of ${onnxPath} have ${logitsVocab} entries`, tokenizerPath);
  }
  // Fewer tokens than vocab_size is normal (embedding tables are padded); more cannot be embedded.
  if (tokenizer.vocabSize > config.vocabSize) {
    throw vocabError(`${tokenizerPath}: ${tokenizer.vocabSize} tokens but ${configPath} vocab_size is ${config.vocabSize}`, tokenizerPath, 'vocab_size');
  }

  const weights = [onnxPath, ...(await externalDataFiles(onnxPath, graph.externalData))];
  const [digest, sizes] = await Promise.all([sha256(weights), Promise.all(weights.map((f) => stat(f)))]);
  const chatTemplate = await chatTemplateOf(tokenizerConfig, dir);
  return {
    dir,
    name: path.basename(path.resolve(dir)),
    onnxFile,
    onnxPath,
    sha256: digest,
    sizeBytes: sizes.reduce((sum, st) => sum + st.size, 0),
    externalData: graph.externalData,
    config,
    io,
    tokenizer,
    ...(chatTemplate !== undefined ? { chatTemplate } : {}),
  };
}
