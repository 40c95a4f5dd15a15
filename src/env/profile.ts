import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, isScalar, visit } from 'yaml';
import { DetbenchError } from '../errors.ts';
import type { RunnerList } from '../runner-contract/manifest.ts';
import { readLocatedYaml, zodErrorAt } from '../yaml.ts';
import { detectFingerprint, type Fingerprint } from './fingerprint.ts';
import { type HardwareProfile, profileSchemaFor } from './profile-schema.ts';

/** The shipped profiles, beside src/ (also found from a bundle run from the repository root). */
const SHIPPED_DIR = fileURLToPath(new URL('../../hardware-profiles/', import.meta.url));

/** What a record carries: the profile id and the fingerprint detected when the run started. */
export interface RecordProfile {
  id: string;
  fingerprint: Fingerprint;
}

/** JSON with sorted keys, so the same facts always hash the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `auto-<8 hex>`: the id of an undeclared machine, stable while its fingerprint is. */
export function autoProfileId(fp: Fingerprint): string {
  return `auto-${createHash('sha256').update(canonical(fp)).digest('hex').slice(0, 8)}`;
}

/** Reads and validates a profile file (its runner settings against `runners`); errors name the file, the line and the field (PROFILE_*). */
export function loadProfile(file: string, runners: RunnerList): HardwareProfile {
  const y = readLocatedYaml(file, resolve(file), { notFound: 'PROFILE_NOT_FOUND', yaml: 'PROFILE_YAML' }, 'hardware profile');
  const parsed = profileSchemaFor(runners).safeParse(y.data);
  if (!parsed.success) throw zodErrorAt(y, parsed.error, 'PROFILE_INVALID');
  return parsed.data;
}

/**
 * Finds a profile by file path or by id: a path that exists (or ends in .yaml/.yml) is read as is;
 * an id is looked up as `<id>.yaml` in `dirs` (default: ./hardware-profiles, then the shipped ones).
 */
export function resolveProfile(
  idOrFile: string,
  runners: RunnerList,
  dirs: string[] = [resolve('hardware-profiles'), SHIPPED_DIR],
): { file: string; profile: HardwareProfile } {
  const looksLikeFile = /\.ya?ml$/i.test(idOrFile) || idOrFile.includes('/') || isAbsolute(idOrFile);
  if (looksLikeFile || existsSync(idOrFile)) return { file: idOrFile, profile: loadProfile(idOrFile, runners) };
  for (const dir of dirs) {
    const file = join(dir, `${idOrFile}.yaml`);
    if (existsSync(file)) return { file, profile: loadProfile(file, runners) };
  }
  throw new DetbenchError('PROFILE_NOT_FOUND', `--profile ${idOrFile}: no such file, and no ${idOrFile}.yaml in ${dirs.join(' or ')}`);
}

/** A profile describing the detected machine, as `detbench profile` prints it. */
export function profileFromFingerprint(fp: Fingerprint, id = autoProfileId(fp)): HardwareProfile {
  const gpus = groupGpus(fp);
  const software: NonNullable<HardwareProfile['software']> = { node: fp.node };
  if (fp.onnxruntime) software.onnxruntime = fp.onnxruntime;
  if (typeof fp.cudaProvider === 'string') software.cuda_provider = fp.cudaProvider;
  if (fp.browser) software.chromium = fp.browser;
  return {
    id,
    description: `detected by detbench profile on ${new Date().toISOString().slice(0, 10)}`,
    machine: {
      cpu: { model: fp.cpuModel, cores: fp.cpuCores, ...(fp.cpuFlags ? { flags: fp.cpuFlags } : {}) },
      memory_gib: fp.memoryGiB,
      os: fp.osName ? `${fp.osName} (${fp.os})` : fp.os,
      arch: fp.arch,
      ...(gpus.length ? { gpus } : {}),
      ...(fp.driver ? { nvidia_driver: fp.driver } : {}),
      ...(fp.cuda ? { cuda: fp.cuda } : {}),
    },
    software,
  };
}

function groupGpus(fp: Fingerprint): NonNullable<HardwareProfile['machine']['gpus']> {
  const out: NonNullable<HardwareProfile['machine']['gpus']> = [];
  for (const g of fp.gpus ?? []) {
    const same = out.find((o) => o.name === g.name);
    if (same) {
      same.count++;
      continue;
    }
    out.push({
      name: g.name,
      count: 1,
      ...(g.memoryMiB ? { memory_gib: Math.round((g.memoryMiB / 1024) * 10) / 10 } : {}),
      ...(g.computeCapability ? { compute_capability: g.computeCapability } : {}),
    });
  }
  return out;
}

/** The profile as YAML text, with a schema-pointer comment. */
export function profileToYaml(profile: HardwareProfile): string {
  const doc = new Document(profile);
  // Lists of plain values (CPU flags) read best on one line.
  visit(doc, {
    Seq: (_, node) => {
      node.flow = node.items.every(isScalar);
    },
  });
  return `# detbench hardware profile (schema: src/env/profile-schema.ts)\n${doc.toString({ lineWidth: 0 })}`;
}

/**
 * Where the detected machine differs from a declared profile (CPU model and cores, GPU, driver major
 * version, CUDA): the run still goes on, but the records say so.
 */
export function profileMismatches(profile: HardwareProfile, fp: Fingerprint): string[] {
  const out: string[] = [];
  const m = profile.machine;
  if (m.cpu?.model && m.cpu.model !== fp.cpuModel) out.push(`cpu.model: profile says "${m.cpu.model}", detected "${fp.cpuModel}"`);
  if (m.cpu?.cores && m.cpu.cores !== fp.cpuCores) out.push(`cpu.cores: profile says ${m.cpu.cores}, detected ${fp.cpuCores}`);
  const declared = m.gpus?.[0]?.name;
  const detected = fp.gpus?.[0]?.name;
  if (declared && declared !== detected) out.push(`gpus[0].name: profile says "${declared}", detected ${detected ? `"${detected}"` : 'no NVIDIA GPU'}`);
  const major = (v: string | undefined) => v?.split('.')[0];
  if (m.nvidia_driver && major(m.nvidia_driver) !== major(fp.driver))
    out.push(`nvidia_driver: profile says ${m.nvidia_driver}, detected ${fp.driver ?? 'none'}`);
  if (m.cuda && m.cuda !== fp.cuda) out.push(`cuda: profile says ${m.cuda}, detected ${fp.cuda ?? 'none'}`);
  return out;
}

/**
 * The `profile` field of every record: the declared profile's id (or `auto-<hash>`) and the
 * fingerprint detected now; a declared profile adds its file and any mismatch with the machine.
 */
export function recordProfile(fp: Fingerprint, declared?: { file: string; profile: HardwareProfile }): RecordProfile {
  if (!declared) return { id: autoProfileId(fp), fingerprint: fp };
  const mismatches = profileMismatches(declared.profile, fp);
  return {
    id: declared.profile.id,
    fingerprint: { ...fp, profileFile: declared.file, ...(mismatches.length ? { profileMismatches: mismatches } : {}) },
  };
}

/**
 * The profile for `detbench run --profile <id|file>`: the declared profile's id, else
 * `auto-<hash>`, with the fingerprint detected now. Mismatches with the declared machine go to `warn`.
 */
export function runProfile(idOrFile: string | undefined, runners: RunnerList, warn: (message: string) => void = () => {}): RecordProfile {
  const fp = detectFingerprint();
  const declared = idOrFile === undefined ? undefined : resolveProfile(idOrFile, runners);
  const profile = recordProfile(fp, declared);
  for (const m of (profile.fingerprint.profileMismatches as string[] | undefined) ?? []) warn(`profile ${profile.id}: ${m}`);
  return profile;
}
