import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DetbenchError } from '../errors.ts';

// The files of a model folder, as loadModel reads them: each refused with a DetbenchError that
// names the file (missing, a folder, invalid JSON, outside the folder), and hashed as one.

/** Whether `file` exists; a folder where a file belongs is an error here, not a later EISDIR. */
export async function exists(file: string): Promise<boolean> {
  const st = await stat(file).catch(() => undefined);
  if (st && !st.isFile()) throw new DetbenchError('MODEL_FILE_INVALID', `${file}: is a folder (or another non-file); expected a file`, { file });
  return st !== undefined;
}

/** A JSON object read from `file`; anything else is a DetbenchError with `code` naming the file. */
export async function readJson(file: string, code: string): Promise<object> {
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
export async function sha256(files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) await pipeline(createReadStream(file), hash, { end: false });
  return hash.digest('hex');
}

/**
 * The external-data files the graph names, as full paths. A location must stay inside the ONNX
 * file's folder (onnx's own rule): an absolute path or one that climbs out is a corrupt model.
 */
export async function externalDataFiles(onnxPath: string, locations: readonly string[]): Promise<string[]> {
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
export async function chatTemplateOf(tokenizerConfig: Record<string, unknown>, dir: string): Promise<string | undefined> {
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

/** model_file comes from a suite, decoder.filename from genai_config.json: neither may name a file outside the model folder (as external data may not). */
export function insideFolder(dir: string, onnxFile: string): void {
  const root = path.resolve(dir);
  if (path.isAbsolute(onnxFile) || !path.resolve(root, onnxFile).startsWith(root + path.sep)) {
    throw new DetbenchError('MODEL_FILE_OUTSIDE', `${onnxFile}: lies outside the model folder ${dir}; expected a file inside it`, {
      file: path.join(dir, onnxFile),
    });
  }
}
