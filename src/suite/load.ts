import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { DetbenchError } from '../errors.ts';
import { suiteSchema, type SuiteFile } from './schema.ts';

/** A suite with its source location, prompts read from their files. */
export interface LoadedSuite extends SuiteFile {
  file: string;
  dir: string;
  resolvedPrompts: { id: string; text: string; system?: string }[];
}

/** The line (1-based) of the YAML node at `path`, or of its nearest existing ancestor. */
function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
    const range = node && (isMap(node) || isSeq(node) || 'range' in node) ? node.range : undefined;
    if (range) return counter.linePos(range[0]).line;
  }
  return undefined;
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
}

/**
 * Reads, validates and resolves a suite file. Every problem is a DetbenchError naming the file,
 * the line and the field (code SUITE_INVALID, SUITE_YAML or SUITE_NOT_FOUND).
 */
export function loadSuite(file: string): LoadedSuite {
  const path = resolve(file);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new DetbenchError('SUITE_NOT_FOUND', `${file}: cannot read suite file`, { cause, file });
  }
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line;
    throw new DetbenchError('SUITE_YAML', `${file}:${line ?? '?'}: invalid YAML: ${err.message.split('\n')[0]}`, { file, line, cause: err });
  }
  const parsed = suiteSchema.safeParse(doc.toJS());
  if (!parsed.success) throw fromZod(parsed.error, file, doc, counter);
  const suite = parsed.data;
  const dir = dirname(path);
  return { ...suite, file: path, dir, resolvedPrompts: resolvePrompts(suite, dir, file, doc, counter) };
}

function fromZod(error: z.ZodError, file: string, doc: ReturnType<typeof parseDocument>, counter: LineCounter): DetbenchError {
  const lines = error.issues.map((issue) => {
    const line = lineOf(doc, counter, issue.path);
    return `${file}:${line ?? '?'}: ${fieldName(issue.path)}: ${issue.message}`;
  });
  const first = error.issues[0]!;
  return new DetbenchError('SUITE_INVALID', lines.join('\n'), {
    file,
    line: lineOf(doc, counter, first.path),
    field: fieldName(first.path),
    cause: error,
  });
}

function resolvePrompts(
  suite: SuiteFile,
  dir: string,
  file: string,
  doc: ReturnType<typeof parseDocument>,
  counter: LineCounter,
): LoadedSuite['resolvedPrompts'] {
  const out: LoadedSuite['resolvedPrompts'] = [];
  suite.prompts.forEach((p, i) => {
    if ('text' in p) {
      out.push({ id: p.id ?? `p${i + 1}`, text: p.text, ...(p.system ? { system: p.system } : {}) });
      return;
    }
    let text: string;
    try {
      text = readFileSync(resolve(dir, p.file), 'utf8');
    } catch (cause) {
      const line = lineOf(doc, counter, ['prompts', i, 'file']);
      throw new DetbenchError('SUITE_INVALID', `${file}:${line ?? '?'}: prompts[${i}].file: cannot read ${p.file}`, {
        file,
        line,
        field: `prompts[${i}].file`,
        cause,
      });
    }
    const prefix = p.id_prefix ?? p.file.replace(/^.*\//, '').replace(/\.[^.]*$/, '');
    let n = 0;
    for (const raw of text.split('\n')) {
      const line = raw.trimEnd();
      if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
      out.push({ id: `${prefix}-${++n}`, text: line.replace(/\\n/g, '\n') });
    }
  });
  const ids = new Set<string>();
  for (const p of out) {
    if (ids.has(p.id)) throw new DetbenchError('SUITE_INVALID', `${file}: prompts: duplicate prompt id "${p.id}"`, { file, field: 'prompts' });
    ids.add(p.id);
  }
  return out;
}
