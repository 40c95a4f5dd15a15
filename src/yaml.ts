import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
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
    throw new DetbenchError(codes.notFound, `${file}: cannot read ${what} file (${(cause as Error).message})`, { cause, file });
  }
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line;
    throw new DetbenchError(codes.yaml, `${file}:${line ?? '?'}: invalid YAML: ${err.message.split('\n')[0]}`, { file, line, cause: err });
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (cause) {
    // The yaml library refuses aliases that would expand to a huge document ("billion laughs").
    const line = firstNestedAliasLine(doc, counter);
    throw new DetbenchError(
      codes.yaml,
      `${file}:${line ?? '?'}: invalid YAML: aliases expand beyond the yaml library's limit (maxAliasCount 100, a guard against "billion laughs" documents): ${(cause as Error).message}`,
      { file, line, cause },
    );
  }
  return { file, doc, counter, data };
}

/** The line of the first alias whose anchor itself holds aliases (the nesting that multiplies), else of the first alias. */
function firstNestedAliasLine(doc: LocatedYaml['doc'], counter: LineCounter): number | undefined {
  const anchored = new Map<string, Node>();
  let first: number | undefined;
  let nested: number | undefined;
  visit(doc, (_key, node) => {
    if (nested !== undefined) return visit.BREAK;
    if (isAlias(node)) {
      const line = node.range ? counter.linePos(node.range[0]).line : undefined;
      first ??= line;
      const target = anchored.get(node.source);
      let holdsAlias = false;
      if (target) {
        visit(target, (_k, n) => {
          if (!isAlias(n)) return undefined;
          holdsAlias = true;
          return visit.BREAK;
        });
      }
      if (holdsAlias) nested = line;
    } else if (node && typeof node === 'object' && 'anchor' in node && typeof node.anchor === 'string') {
      anchored.set(node.anchor, node as Node);
    }
    return undefined;
  });
  return nested ?? first;
}

/** The line (1-based) of the YAML node at `path`, or of its nearest existing ancestor (line 1 in an empty document). */
export function lineOf(y: Pick<LocatedYaml, 'doc' | 'counter'>, path: readonly PropertyKey[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = y.doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
    const range = node && (isMap(node) || isSeq(node) || 'range' in node) ? node.range : undefined;
    if (range) return y.counter.linePos(range[0]).line;
  }
  // An empty document: what is missing belongs at its start.
  return 1;
}

/** `runners[2].options.device_id` from a zod issue path. */
export function fieldName(path: readonly PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(root)'
  );
}

/** The line of a zod issue: an unknown key's own line, else the line of the value at the issue's path. */
function issueLine(y: LocatedYaml, issue: z.core.$ZodIssue): number | undefined {
  if (issue.code === 'unrecognized_keys') {
    const map = y.doc.getIn(issue.path as unknown[], true);
    const pair = isMap(map) ? map.items.find((p) => isScalar(p.key) && p.key.value === issue.keys[0]) : undefined;
    const range = isScalar(pair?.key) ? pair.key.range : undefined;
    if (range) return y.counter.linePos(range[0]).line;
  }
  return lineOf(y, issue.path);
}

/** One DetbenchError listing every zod issue as `file:line: field: message`; the first gives line and field. */
export function zodErrorAt(y: LocatedYaml, error: z.ZodError, code: string): DetbenchError {
  const lines = error.issues.map((issue) => `${y.file}:${issueLine(y, issue) ?? '?'}: ${fieldName(issue.path)}: ${issueMessage(issue)}`);
  const first = error.issues[0]!;
  return new DetbenchError(code, lines.join('\n'), {
    file: y.file,
    line: issueLine(y, first),
    field: fieldName(first.path),
    cause: error,
  });
}

/**
 * zod's message, except that a union with no message of its own ("Invalid input") says what its
 * branches expected, so no error leaves the user guessing.
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  // zod says "Invalid input: expected string, received undefined" for a field that is not there.
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined'))
    return `missing; expected ${issue.expected === 'int' ? 'an integer' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`}`;
  if (issue.code === 'invalid_type' && issue.expected === 'int' && issue.message.endsWith('received number'))
    return 'Invalid input: expected an integer, received a fraction';
  if (issue.code !== 'invalid_union' || issue.message !== 'Invalid input') return issue.message;
  const expected = new Set<string>();
  for (const branch of issue.errors) for (const e of branch) if (e.code === 'invalid_type' && e.path.length === 0) expected.add(e.expected);
  return expected.size > 0 ? `Invalid input: expected ${[...expected].join(' or ')}` : issue.message;
}
