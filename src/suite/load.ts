import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DetbenchError } from '../errors.ts';
import { isRepoId } from '../model/hub/repo-id.ts';
import { findRunner, type RunnerList, type RunnerManifest } from '../runner-contract/manifest.ts';
import { fieldName, type LocatedYaml, lineOf, readLocatedYaml, zodErrorAt } from '../yaml.ts';
import { type SuiteFile, suiteSchemaFor } from './schema.ts';

/** Where a value of the suite was written: a file (the suite or a prompts file), a line, a field. */
export interface SourceAt {
  file: string;
  line: number | undefined;
  field: string;
}

/** A prompt of the suite, read from the suite or from its prompts file. */
export interface ResolvedPrompt {
  id: string;
  text: string;
  system?: string;
  /** Where it was written, for errors found later (too long for the model, a template that fails). */
  source: SourceAt;
}

/** A runner entry of a loaded suite, with the manifest of its type. */
export type SuiteRunnerEntry = SuiteFile['runners'][number] & { manifest: RunnerManifest };

/** A suite with its source location, prompts read from their files, each runner entry with its manifest. */
export interface LoadedSuite extends Omit<SuiteFile, 'runners'> {
  runners: SuiteRunnerEntry[];
  file: string;
  dir: string;
  resolvedPrompts: ResolvedPrompt[];
  /** Where a field of the suite file was written (`['max_new_tokens']`), for checks made after loading. */
  at(path: readonly PropertyKey[]): SourceAt;
}

/** `file:line: field: message`, the shape of every suite error. */
export function atMessage(at: SourceAt, message: string): string {
  return `${at.file}:${at.line ?? '?'}: ${at.field}: ${message}`;
}

/** A DetbenchError for a problem found at `at`, worded like every other suite error. */
export function suiteError(code: string, at: SourceAt, message: string): DetbenchError {
  return new DetbenchError(code, atMessage(at, message), { file: at.file, line: at.line, field: at.field });
}

/** A DetbenchError about something the suite names (its model), re-worded to start at the suite's line. */
export function atSuiteLine(err: unknown, at: SourceAt): unknown {
  if (!(err instanceof DetbenchError)) return err;
  return new DetbenchError(err.code, atMessage(at, err.message), { file: at.file, line: at.line, field: at.field, cause: err });
}

/**
 * Reads, validates and resolves a suite file whose runners are those of `runners` (the CLI and the
 * library pass the shipped list, `runners/index.ts`). Every problem is a DetbenchError naming the
 * file, the line and the field (code SUITE_INVALID, SUITE_YAML or SUITE_NOT_FOUND).
 */
export function loadSuite(file: string, runners: RunnerList): LoadedSuite {
  const path = resolve(file);
  const y = readLocatedYaml(file, path, { notFound: 'SUITE_NOT_FOUND', yaml: 'SUITE_YAML' }, 'suite');
  const parsed = suiteSchemaFor(runners).safeParse(y.data);
  if (!parsed.success) throw zodErrorAt(y, parsed.error, 'SUITE_INVALID');
  const dir = dirname(path);
  const suite = { ...parsed.data, model: hubOrFolder(parsed.data.model, dir) };
  const at = (p: readonly PropertyKey[]): SourceAt => ({ file, line: lineOf(y, p), field: fieldName(p) });
  const resolvedPrompts = resolvePrompts(suite, dir, file, y);
  const known = new Set(resolvedPrompts.map((p) => p.id));
  suite.runners.forEach((r, i) => {
    const unknown = (r.prompts ?? []).filter((p) => !known.has(p));
    if (unknown.length) {
      const line = lineOf(y, ['runners', i, 'prompts']);
      throw new DetbenchError(
        'SUITE_INVALID',
        `${file}:${line ?? '?'}: runners[${i}].prompts: no prompt with id ${unknown.map((u) => `"${u}"`).join(', ')} (has ${[...known].join(', ')})`,
        {
          file,
          ...(line !== undefined ? { line } : {}),
          field: `runners[${i}].prompts`,
        },
      );
    }
  });
  // The schema admitted only the list's types, so every entry finds its manifest.
  const entries = suite.runners.map((r) => ({ ...r, manifest: findRunner(runners, r.type)! }));
  return { ...suite, runners: entries, file: path, dir, resolvedPrompts, at };
}

/**
 * `model: owner/name` names a Hub repo when no such folder exists beside the suite: a path that
 * exists always wins, so a local folder is never shadowed by a repo of the same name.
 */
function hubOrFolder(model: SuiteFile['model'], dir: string): SuiteFile['model'] {
  if (!model || !('path' in model) || model.file !== undefined) return model;
  if (existsSync(resolve(dir, model.path)) || !isRepoId(model.path)) return model;
  return { hub: model.path, revision: 'main' };
}

function resolvePrompts(suite: SuiteFile, dir: string, file: string, y: LocatedYaml): ResolvedPrompt[] {
  const out: ResolvedPrompt[] = [];
  suite.prompts.forEach((p, i) => {
    if ('text' in p) {
      const source = { file, line: lineOf(y, ['prompts', i]), field: `prompts[${i}]` };
      out.push({ id: p.id ?? `p${i + 1}`, text: p.text, ...(p.system ? { system: p.system } : {}), source });
      return;
    }
    const at = { file, line: lineOf(y, ['prompts', i, 'file']), field: `prompts[${i}].file` };
    let text: string;
    try {
      text = readFileSync(resolve(dir, p.file), 'utf8');
    } catch (cause) {
      throw new DetbenchError('SUITE_INVALID', atMessage(at, `cannot read ${p.file} (${(cause as Error).message})`), { ...at, cause });
    }
    const prefix = p.id_prefix ?? p.file.replace(/^.*\//, '').replace(/\.[^.]*$/, '');
    const promptsFile = join(dirname(file), p.file);
    let n = 0;
    text.split('\n').forEach((raw, lineIndex) => {
      const line = raw.trimEnd();
      if (line.trim() === '' || line.trimStart().startsWith('#')) return;
      const source = { file: promptsFile, line: lineIndex + 1, field: `prompts[${i}].file` };
      out.push({ id: `${prefix}-${++n}`, text: line.replace(/\\n/g, '\n'), source });
    });
    // A file of comments would make an empty suite that "succeeds" with nothing measured.
    if (n === 0) throw suiteError('SUITE_INVALID', at, `${p.file} holds no prompt (every line is blank or a # comment); expected one prompt per line`);
  });
  const seen = new Map<string, ResolvedPrompt>();
  for (const p of out) {
    const first = seen.get(p.id);
    if (first) {
      throw suiteError(
        'SUITE_INVALID',
        p.source,
        `duplicate prompt id "${p.id}" (first at ${first.source.file}:${first.source.line ?? '?'}); expected unique ids`,
      );
    }
    seen.set(p.id, p);
  }
  return out;
}
