import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DetbenchError } from '../errors.ts';
import { parseModelConfig } from './config.ts';
import { parseGenaiConfig } from './genai-config.ts';
import { modelIOFor, staticLogitsVocab } from './io-check.ts';
import { chatTemplateOf, exists, externalDataFiles, insideFolder, readJson, sha256 } from './model-files.ts';
import { readOnnxIO } from './onnx-io.ts';
import { DTYPE_NAMES, DTYPE_SUFFIX, type DtypeName, precisionOf } from './precision.ts';
import { specialTokensOf } from './special-tokens.ts';
import { HfTextTokenizer } from './tokenizer.ts';
import type { CacheTemplates, LoadedModel, ModelConfig, ModelLayout, Override, SourceNote } from './types.ts';

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** The ONNX file, relative to the model folder; overrides `precision` (default: the layout's own). */
  onnxFile?: string;
  /**
   * An onnx-community dtype name (fp32, fp16, q4, q4f16, int8, uint8, bnb4, quantized): loads
   * `onnx/model_<dtype>.onnx` in the Hugging Face layout. Default: transformers.js_config.dtype, else fp32.
   */
  precision?: DtypeName;
}

/** transformers.js_config.dtype of config.json: a name, or per-module names ({ model: 'q4' }). */
export function defaultDtype(rawConfig: Record<string, unknown>): string | undefined {
  const tjs = rawConfig['transformers.js_config'] as { dtype?: unknown } | undefined;
  const dtype = tjs?.dtype;
  if (typeof dtype === 'string') return dtype;
  if (dtype && typeof dtype === 'object') {
    const d = dtype as Record<string, unknown>;
    const v = d.model ?? d.decoder_model_merged;
    if (typeof v === 'string') return v;
  }
  return undefined;
}

export const isDtype = (x: string): x is DtypeName => Object.hasOwn(DTYPE_SUFFIX, x);

/** The files that may hold a dtype in the Hugging Face layout, in the order they are looked for. */
export function hfCandidates(dtype: DtypeName): string[] {
  const suffix = DTYPE_SUFFIX[dtype];
  return [`onnx/model${suffix}.onnx`, `onnx/decoder_model_merged${suffix}.onnx`];
}

/** The ONNX file of a Hugging Face layout folder for a dtype: onnx/model<suffix>.onnx, else onnx/decoder_model_merged<suffix>.onnx. */
async function hfFile(dir: string, dtype: DtypeName, why: string): Promise<string> {
  const candidates = hfCandidates(dtype);
  for (const c of candidates) if (await exists(path.join(dir, c))) return c;
  const want = path.join(dir, candidates[0]!);
  throw new DetbenchError('MODEL_FILE_MISSING', `${want}: missing from model folder ${dir} (${why} ${dtype} loads ${candidates.join(' or ')})`, {
    file: want,
    field: 'precision',
  });
}

/**
 * Loads and cross-checks a model folder in the Hugging Face / transformers.js layout
 * (config.json, onnx/model*.onnx) or the ONNX Runtime GenAI layout (genai_config.json naming the
 * decoder file), with tokenizer.json and tokenizer_config.json (and generation_config.json,
 * special_tokens_map.json when present). The graph decides the interface: where the
 * configuration disagrees with it, the graph's value is used and `overrides` says so. Throws
 * DetbenchError naming the file: MODEL_FILE_MISSING, MODEL_CONFIG_INVALID,
 * MODEL_TOKENIZER_INVALID, MODEL_CORRUPT, MODEL_IO_MISMATCH (an input or output detbench cannot
 * feed or read) or MODEL_VOCAB_MISMATCH.
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const file = (name: string) => path.join(dir, name);
  const configPath = file('config.json');
  const genaiPath = file('genai_config.json');
  const tokenizerPath = file('tokenizer.json');
  const tokenizerConfigPath = file('tokenizer_config.json');
  const specialMapPath = file('special_tokens_map.json');
  const generationPath = file('generation_config.json');
  const sources: SourceNote[] = [];
  const overrides: Override[] = [];
  const notes: string[] = [];

  // The layout: config.json with onnx/ (Hugging Face), else genai_config.json (ONNX Runtime GenAI).
  const hasConfig = await exists(configPath);
  const hasGenai = await exists(genaiPath);
  const hasOnnxDir = (await stat(file('onnx')).catch(() => undefined))?.isDirectory() ?? false;
  const layout: ModelLayout = hasGenai && (!hasConfig || !hasOnnxDir) ? 'genai' : 'hf';
  const required = [layout === 'hf' ? configPath : genaiPath, tokenizerPath, tokenizerConfigPath];
  const missing = (await Promise.all(required.map(async (f) => ((await exists(f)) ? null : f)))).filter((f) => f !== null);
  if (missing.length > 0) {
    const hint = layout === 'hf' && !hasGenai ? ' (a model folder needs config.json with onnx/model.onnx, or genai_config.json naming its decoder)' : '';
    throw new DetbenchError('MODEL_FILE_MISSING', `${missing.join(', ')}: missing from model folder ${dir}${hint}`, { file: missing[0]! });
  }

  let config: ModelConfig;
  let onnxFile: string;
  let templates: CacheTemplates | undefined;
  let configFile: string;
  let dtype: string | undefined;
  let genaiInputs: Record<string, string> = {};
  if (layout === 'genai') {
    configFile = genaiPath;
    const genai = parseGenaiConfig(await readJson(genaiPath, 'MODEL_CONFIG_INVALID'), genaiPath);
    config = genai.config;
    templates = genai.templates;
    genaiInputs = genai.namedInputs;
    if (options.precision && !options.onnxFile) {
      throw new DetbenchError(
        'MODEL_FILE_MISSING',
        `${genaiPath}: precision ${options.precision}: an ONNX Runtime GenAI folder has one decoder file (decoder.filename "${genai.file}"); name another ONNX file with model_file`,
        { file: genaiPath, field: 'precision' },
      );
    }
    onnxFile = options.onnxFile ?? genai.file;
    sources.push(
      { fact: 'architecture, layers, heads, head size, vocabulary, context length, bos/eos/pad ids', from: `${genaiPath} model.*` },
      { fact: 'ONNX file', from: options.onnxFile ? 'model_file option' : `${genaiPath} model.decoder.filename` },
    );
  } else {
    configFile = configPath;
    const rawConfig = (await readJson(configPath, 'MODEL_CONFIG_INVALID')) as Record<string, unknown>;
    if (options.onnxFile) {
      onnxFile = options.onnxFile;
      sources.push({ fact: 'ONNX file', from: 'model_file option' });
    } else {
      const fromConfig = defaultDtype(rawConfig);
      if (fromConfig !== undefined && !isDtype(fromConfig)) {
        throw new DetbenchError(
          'MODEL_CONFIG_INVALID',
          `${configPath}: field "transformers.js_config.dtype": "${fromConfig}" is not one of ${DTYPE_NAMES.join(', ')}`,
          {
            file: configPath,
            field: 'transformers.js_config.dtype',
          },
        );
      }
      dtype = options.precision ?? fromConfig ?? 'fp32';
      const why = options.precision ? 'precision' : fromConfig ? `${configPath} transformers.js_config.dtype` : 'the default precision';
      onnxFile = await hfFile(dir, dtype as DtypeName, why);
      sources.push({ fact: 'ONNX file', from: `${why} ${dtype}` });
    }
    // The files are found first, so a missing or misplaced one is named before a field is.
    insideFolder(dir, onnxFile);
    if (!(await exists(file(onnxFile))))
      throw new DetbenchError('MODEL_FILE_MISSING', `${file(onnxFile)}: missing from model folder ${dir}`, { file: file(onnxFile) });
    const generationConfig = (await exists(generationPath)) ? await readJson(generationPath, 'MODEL_CONFIG_INVALID') : undefined;
    config = parseModelConfig(rawConfig, { file: configPath, generationConfig, generationFile: generationPath });
    sources.unshift({
      fact: 'architecture, layers, heads, head size, vocabulary, context length, bos/eos/pad ids',
      from: configPath + (generationConfig ? ` and ${generationPath}` : ''),
    });
  }
  const onnxPath = file(onnxFile);
  insideFolder(dir, onnxFile);
  if (!(await exists(onnxPath))) {
    throw new DetbenchError('MODEL_FILE_MISSING', `${onnxPath}: missing from model folder ${dir}`, { file: onnxPath });
  }

  const tokenizerJson = await readJson(tokenizerPath, 'MODEL_TOKENIZER_INVALID');
  const tokenizerConfig = (await readJson(tokenizerConfigPath, 'MODEL_TOKENIZER_INVALID')) as Record<string, unknown>;
  const specialMap = (await exists(specialMapPath)) ? ((await readJson(specialMapPath, 'MODEL_TOKENIZER_INVALID')) as Record<string, unknown>) : undefined;
  let tokenizer: HfTextTokenizer;
  try {
    tokenizer = new HfTextTokenizer(tokenizerJson, tokenizerConfig);
  } catch (cause) {
    throw new DetbenchError('MODEL_TOKENIZER_INVALID', `${tokenizerPath}: cannot build the tokenizer: ${(cause as Error).message}`, {
      cause,
      file: tokenizerPath,
    });
  }
  const special = specialTokensOf(tokenizerConfig, specialMap, { tokenizerConfig: tokenizerConfigPath, specialTokensMap: specialMapPath });
  for (const [name, from] of Object.entries(special.from)) sources.push({ fact: `${name} "${special.tokens[name]}"`, from });

  const graph = await readOnnxIO(onnxPath);
  const checked = modelIOFor(graph, config, { onnx: onnxPath, config: configFile }, templates);
  config = checked.config;
  overrides.push(...checked.overrides);
  const io = checked.io;
  for (const name of ['position_ids', 'attention_mask'] as const) {
    if (genaiInputs[name] && !io.inputNames.includes(genaiInputs[name])) {
      overrides.push({
        field: `model.decoder.inputs.${name}`,
        config: genaiInputs[name],
        graph: null,
        note: `${onnxPath} has no "${genaiInputs[name]}" input: none is fed`,
      });
    }
  }
  sources.push(
    { fact: 'inputs, outputs, their types and the KV-cache names', from: onnxPath },
    { fact: `padding: ${io.padding}`, from: `${onnxPath} (${io.padding === 'right' ? 'com.microsoft GroupQueryAttention' : 'no GroupQueryAttention'})` },
  );

  const vocabError = (message: string, f: string, field?: string) =>
    new DetbenchError('MODEL_VOCAB_MISMATCH', message, { file: f, ...(field ? { field } : {}) });
  const logitsVocab = staticLogitsVocab(graph);
  if (tokenizer.vocabSize > config.vocabSize) {
    // Ids beyond the logits can never be generated; a prompt holding one is refused when it is prepared.
    if (logitsVocab === undefined) {
      throw vocabError(`${tokenizerPath}: ${tokenizer.vocabSize} tokens but ${configFile} vocab_size is ${config.vocabSize}`, tokenizerPath, 'vocab_size');
    }
    notes.push(
      `${tokenizerPath} has ${tokenizer.vocabSize} tokens but the logits of ${onnxPath} have ${logitsVocab}: only ids below ${logitsVocab} can be fed or generated; a prompt with a larger id is refused`,
    );
  }

  const weights = [onnxPath, ...(await externalDataFiles(onnxPath, graph.externalData))];
  const [digest, sizes] = await Promise.all([sha256(weights), Promise.all(weights.map((f) => stat(f)))]);
  const chatTemplate = await chatTemplateOf(tokenizerConfig, dir);
  if (chatTemplate !== undefined)
    sources.push({
      fact: 'chat template',
      from: typeof tokenizerConfig.chat_template === 'undefined' ? path.join(dir, 'chat_template.jinja') : `${tokenizerConfigPath} chat_template`,
    });
  const precision = precisionOf(graph, io.kvType, io.logitsType);
  sources.push({ fact: `precision: ${precision.summary}`, from: `${onnxPath} (initializer types and quantized operators)` });
  return {
    dir,
    name: path.basename(path.resolve(dir)),
    layout,
    sources,
    overrides,
    notes,
    precision,
    ...(dtype !== undefined ? { dtype } : {}),
    specialTokens: special.tokens,
    graph: { inputs: graph.inputs, outputs: graph.outputs, ops: graph.ops, opsets: graph.opsets },
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
