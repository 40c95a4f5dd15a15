import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CUDA_PROVIDER_LIBS, checkCudaProviderLibrary, PROVIDER_MARKER, readProviderMarker } from '../src/env/cuda.ts';

/** A stand-in for the npm package's tarball: same layout, tiny fake libraries naming `ortVersion`. */
function fakePackage(dir: string, name: string, version: string, ortVersion: string): string {
  const lib = join(dir, 'package', 'Plugins', 'Linux', 'x64');
  mkdirSync(lib, { recursive: true });
  writeFileSync(join(dir, 'package', 'package.json'), JSON.stringify({ name, version }));
  for (const f of CUDA_PROVIDER_LIBS) writeFileSync(join(lib, f), Buffer.from(`\x7fELF\0${ortVersion}\0`, 'latin1'));
  const tgz = join(dir, `${name}-${version}.tgz`);
  execFileSync('tar', ['-czf', tgz, '-C', dir, 'package']);
  return tgz;
}

const script = 'scripts/install-cuda-provider.sh';

describe('scripts/install-cuda-provider.sh (from a local tarball, no download)', () => {
  it('copies both libraries and writes the marker that probe() reads, and --remove undoes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detbench-install-'));
    const tgz = fakePackage(dir, 'com.github.asus4.onnxruntime.linux-x64-gpu', '0.4.9', '1.29.0');
    const dest = join(dir, 'bin');
    const out = execFileSync('bash', [script, '--tgz', tgz, '--dest', dest], { encoding: 'utf8' });
    expect(out).toContain('installed com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 (onnxruntime 1.29.0, CUDA 13)');
    for (const f of CUDA_PROVIDER_LIBS) expect(existsSync(join(dest, f))).toBe(true);
    const marker = readProviderMarker(dest)!;
    expect(marker).toMatchObject({ package: 'com.github.asus4.onnxruntime.linux-x64-gpu', version: '0.4.9', onnxruntime: '1.29.0', cuda: '13' });
    expect(marker.files['libonnxruntime_providers_cuda.so']!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await checkCudaProviderLibrary(dest, '1.29.0')).toMatchObject({
      ok: true,
      version: '1.29.0',
      source: 'com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9',
    });
    // The same libraries against another onnxruntime version: a mismatch, reported as such.
    expect(await checkCudaProviderLibrary(dest, '1.30.0')).toMatchObject({ ok: false, code: 'PROVIDER_MISMATCH' });

    execFileSync('bash', [script, '--remove', '--dest', dest]);
    for (const f of [...CUDA_PROVIDER_LIBS, PROVIDER_MARKER]) expect(existsSync(join(dest, f))).toBe(false);
  });

  it('refuses a tarball of another package', () => {
    const dir = mkdtempSync(join(tmpdir(), 'detbench-install-'));
    const tgz = fakePackage(dir, 'some-other-package', '1.0.0', '1.29.0');
    let stderr = '';
    try {
      execFileSync('bash', [script, '--tgz', tgz, '--dest', join(dir, 'bin')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr: string }).stderr);
    }
    expect(stderr).toContain('is some-other-package@1.0.0, expected com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9');
    expect(existsSync(join(dir, 'bin', PROVIDER_MARKER))).toBe(false);
  });
});
