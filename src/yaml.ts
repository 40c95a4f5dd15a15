import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { DetbenchError } from './errors.ts';

/** A parsed YAML file that still knows where each node came from, for file:line:field errors. */
export interface LocatedYaml {
  file: string;
  doc: ReturnType<typeof parseDocument>;
  counter: LineCounter;
  /** The document as plain data. */
  data: unknown;
}

/** Error codes for an unreadable file and for a YAML syntax error. */
export interface YamlErrorCodes {
  notFound: string;
  yaml: string;
}

/**
 * Reads and parses a YAML file, keeping line positions. A missing file or a YAML syntax error is a
 * DetbenchError with the given codes (`file:line: invalid YAML: ...`).
 */
export function readLocatedYaml(file: string, path: string, codes: YamlErrorCodes, what: string): LocatedYaml {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new DetbenchError(codes.notFound, `${file}: cannot read ${what} file`, { cause, file });
  }
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line;
    throw new DetbenchError(codes.yaml, `${file}:${line ?? '?'}: invalid YAML: ${err.message.split('\n')[0]}`, { file, line, cause: err });
  }
  return { file, doc, counter, data: doc.toJS() };
}

/** The line (1-based) of the YAML node at `path`, or of its nearest existing ancestor. */
export function lineOf(y: Pick<LocatedYaml, 'doc' | 'counter'>, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = y.doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
    const range = node && (isMap(node) || isSeq(node) || 'range' in node) ? node.range : undefined;
    if (range) return y.counter.linePos(range[0]).line;
  }
  return undefined;
}

/** `runners[2].options.device_id` from a zod issue path. */
export function fieldName(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
}

/** One DetbenchError listing every zod issue as `file:line: field: message`; the first gives line and field. */
export function zodErrorAt(y: LocatedYaml, error: z.ZodError, code: string): DetbenchError {
  const lines = error.issues.map((issue) => `${y.file}:${lineOf(y, issue.path) ?? '?'}: ${fieldName(issue.path)}: ${issue.message}`);
  const first = error.issues[0]!;
  return new DetbenchError(code, lines.join('\n'), {
    file: y.file,
    line: lineOf(y, first.path),
    field: fieldName(first.path),
    cause: error,
  });
}
