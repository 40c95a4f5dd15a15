import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { main } from '../cli/main.ts';
import { RUNNERS } from '../runners/index.ts';
import { type HostReader, parseChromiumVersion, parseCpuinfo, parseNvidiaSmiCuda, parseNvidiaSmiQuery } from '../src/env/detect.ts';
import { detectFingerprint, detectFingerprintWith } from '../src/env/fingerprint.ts';
import { autoProfileId, profileFromFingerprint } from '../src/env/profile.ts';
import { profileSchemaFor } from '../src/env/profile-schema.ts';

const CPUINFO = `processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw amx_tile amx_bf16 hypervisor\n\nprocessor\t: 1\n`;

const gpuHost: HostReader = {
  readFile: (p) => (p === '/proc/cpuinfo' ? CPUINFO : p === '/etc/os-release' ? 'NAME="Ubuntu"\nPRETTY_NAME="Ubuntu 24.04.1 LTS"\n' : null),
  exists: (p) => p === '/usr/bin/chromium',
  run: (program, args) => {
    if (program === 'nvidia-smi') return args.length ? 'NVIDIA H100 80GB HBM3, 81559, 580.95.05, 9.0\n' : 'Driver Version: 580.95.05      CUDA Version: 13.0';
    if (program === '/usr/bin/chromium') return 'Chromium 131.0.6778.85 built on Debian GNU/Linux 12 (bookworm)\n';
    return null;
  },
};

afterEach(() => vi.restoreAllMocks());

describe('machine detection', () => {
  it('parses /proc/cpuinfo, nvidia-smi and chromium --version', () => {
    expect(parseCpuinfo(CPUINFO)).toEqual({
      model: 'Intel(R) Xeon(R) Platinum 8480+',
      flags: ['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'amx_tile', 'amx_bf16'],
    });
    expect(parseNvidiaSmiQuery('NVIDIA H100 80GB HBM3, 81559, 580.95.05, 9.0\nTesla T4, [N/A], 535.1, 7.5\n')).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, driver: '580.95.05', computeCapability: '9.0' },
      { name: 'Tesla T4', memoryMiB: null, driver: '535.1', computeCapability: '7.5' },
    ]);
    expect(parseNvidiaSmiCuda('| NVIDIA-SMI 580.95.05   Driver Version: 580.95.05   CUDA Version: 13.0     |')).toBe('13.0');
    expect(parseChromiumVersion('Chromium 131.0.6778.85 built on Debian')).toBe('Chromium 131.0.6778.85');
  });

  it('puts GPU, driver, CUDA, CPU flags and browser into the fingerprint', () => {
    const fp = detectFingerprintWith(gpuHost);
    expect(fp).toMatchObject({
      gpu: 'NVIDIA H100 80GB HBM3',
      driver: '580.95.05',
      cuda: '13.0',
      browser: 'Chromium 131.0.6778.85',
      osName: 'Ubuntu 24.04.1 LTS',
      onnxruntime: '1.29.0',
    });
    expect(fp.cpuFlags).toContain('amx_tile');
    const profile = profileSchemaFor(RUNNERS).parse(profileFromFingerprint(fp, 'gpu-box'));
    expect(profile.machine.gpus).toEqual([{ name: 'NVIDIA H100 80GB HBM3', count: 1, memory_gib: 79.6, compute_capability: '9.0' }]);
    expect(profile.machine).toMatchObject({ nvidia_driver: '580.95.05', cuda: '13.0' });
    expect(profile.software).toMatchObject({ chromium: 'Chromium 131.0.6778.85', onnxruntime: '1.29.0' });
  });

  it('keeps the basic fields detectFingerprint always had', () => {
    const fp = detectFingerprint();
    for (const k of ['cpuModel', 'cpuCores', 'os', 'arch', 'memoryGiB', 'node'] as const) expect(fp[k]).toBeDefined();
    expect(autoProfileId(fp)).toMatch(/^auto-[0-9a-f]{8}$/);
    expect(autoProfileId(detectFingerprint())).toBe(autoProfileId(fp));
  });
});

describe('detbench profile', () => {
  it('prints YAML that the profile schema accepts', async () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    expect(await main(['node', 'detbench', 'profile'])).toBe(0);
    const profile = profileSchemaFor(RUNNERS).parse(parse(out));
    expect(profile.id).toMatch(/^auto-[0-9a-f]{8}$/);
    expect(profile.machine.cpu.cores).toBeGreaterThan(0);
    expect(profile.software?.node).toBe(process.versions.node);
  });

  it('writes the file given with -o, under the id given with --id', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const file = join(mkdtempSync(join(tmpdir(), 'detbench-profile-')), 'me.yaml');
    expect(await main(['node', 'detbench', 'profile', '-o', file, '--id', 'my-box'])).toBe(0);
    const profile = profileSchemaFor(RUNNERS).parse(parse(readFileSync(file, 'utf8')));
    expect(profile.id).toBe('my-box');
  });
});
