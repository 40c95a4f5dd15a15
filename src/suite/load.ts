import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DetbenchError } from '../errors.ts';
import { isRepoId } from '../model/hub/repo-id.ts';
import { lineOf, readLocatedYaml, zodErrorAt, type LocatedYaml } from '../yaml.ts';
import { suiteSchema, type SuiteFile } from './schema.ts';

/** A suite with its source location, prompts read from their files. */
export interface LoadedSuite extends SuiteFile {
  file: string;
  dir: string;
  resolvedPrompts: { id: string; text: string; system?: string }[];
}

/**
 * Reads, validates and resolves a suite file. Every problem is a DetbenchError naming the file,
 * the line and the field (code SUITE_INVALID, SUITE_YAML or SUITE_NOT_FOUND).
 */
export function loadSuite(file: string): LoadedSuite {
  const path = resolve(file);
  const y = readLocatedYaml(file, path, { notFound: 'SUITE_NOT_FOUND', yaml: 'SUITE_YAML' }, 'suite');
  const parsed = suiteSchema.safeParse(y.data);
  if (!parsed.success) throw zodErrorAt(y, parsed.error, 'SUITE_INVALID');
  const dir = dirname(path);
  const suite = { ...parsed.data, model: hubOrFolder(parsed.data.model, dir) };
  return { ...suite, file: path, dir, resolvedPrompts: resolvePrompts(suite, dir, file, y) };
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

function resolvePrompts(
  suite: SuiteFile,
  dir: string,
  file: string,
  y: LocatedYaml,
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
      const line = lineOf(y, ['prompts', i, 'file']);
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
