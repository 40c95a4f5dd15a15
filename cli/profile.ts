import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RUNNERS } from '../runners/index.ts';
import { detectFingerprint } from '../src/env/fingerprint.ts';
import { profileFromFingerprint, profileToYaml } from '../src/env/profile.ts';
import { profileSchemaFor } from '../src/env/profile-schema.ts';

/** `detbench profile`: detects this machine and prints (or writes) a hardware profile YAML. */
export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description('detect this machine (CPU, memory, OS, Node, onnxruntime, GPU/driver/CUDA, Chromium) and print a hardware profile')
    .option('-o, --out <file>', 'write the YAML to this file instead of stdout')
    .option('--id <id>', 'profile id (default: auto-<hash of the fingerprint>)')
    .action((opts: { out?: string; id?: string }) => {
      const profile = profileSchemaFor(RUNNERS).parse(profileFromFingerprint(detectFingerprint(), opts.id));
      const text = profileToYaml(profile);
      if (opts.out) {
        writeFileSync(opts.out, text);
        process.stderr.write(`detbench: profile ${profile.id} -> ${opts.out}\n`);
      } else process.stdout.write(text);
    });
}
