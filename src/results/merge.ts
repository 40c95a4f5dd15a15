/**
 * `detbench merge`: the shards of one run into one results file (and one capture sidecar). Every
 * check comes first (see {@link ShardCheck}); the output is written to a temporary file and renamed
 * into place, so a refused or failed merge leaves nothing, never half a merge. Streams: the records'
 * lines are copied as bytes, never held in memory.
 */
import { closeSync, existsSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DetbenchError, errorMessage } from '../errors.ts';
import { makeDirs } from '../fs-dirs.ts';
import { captureFileFor } from './capture.ts';
import { streamResults } from './read.ts';
import { type LineAt, ShardCheck } from './shards.ts';

/** What {@link mergeShards} wrote. */
export interface MergeSummary {
  file: string;
  records: number;
  bytes: number;
  shards: number;
  /** The merged capture sidecar, when any shard had one. */
  capture: string | null;
}

/** Copies byte ranges of `src` to `fd`, coalescing adjacent ones into large reads. */
function copyRanges(src: string, ranges: [number, number][], fd: number): void {
  const input = openSync(src, 'r');
  const buf = Buffer.alloc(8 << 20);
  try {
    let i = 0;
    while (i < ranges.length) {
      let [from, to] = ranges[i++]!;
      while (i < ranges.length && ranges[i]![0] === to) to = ranges[i++]![1];
      for (let at = from; at < to; ) {
        const n = readSync(input, buf, 0, Math.min(buf.length, to - at), at);
        if (n === 0) throw new Error(`${src}: shorter than when it was read`);
        for (let off = 0; off < n; ) off += writeSync(fd, buf, off, n - off);
        at += n;
      }
    }
  } finally {
    closeSync(input);
  }
}

/** Merges the shard results `files` into `out`. Bad input throws a DetbenchError before anything is written. */
export async function mergeShards(files: string[], out: string, log: (m: string) => void = () => {}): Promise<MergeSummary> {
  const target = resolve(out);
  if (files.some((f) => resolve(f) === target)) throw new DetbenchError('USAGE', `${out}: the output is one of the inputs`);
  if (existsSync(target)) throw new DetbenchError('OUTPUT_EXISTS', `${target}: exists; merge writes a new file`, { file: target });
  const check = new ShardCheck();
  const lines = new Map<string, LineAt[]>();
  for (const f of files) {
    const list: LineAt[] = [];
    lines.set(f, list);
    streamResults(
      f,
      (r, at) => {
        check.add(r, at);
        list.push(at);
      },
      { lean: true, warn: log },
    );
  }
  if (!check.isSharded)
    throw new DetbenchError('SHARDS_INVALID', `${files.join(', ')}: no record carries a shard: these are not results of detbench run --shard`);
  const ordered = check.verify();

  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  const sideTmp = `${tmp}.capture`;
  let fd: number;
  try {
    makeDirs(dirname(target));
    fd = openSync(tmp, 'wx');
  } catch (cause) {
    throw new DetbenchError('OUTPUT_UNWRITABLE', `${target}: cannot write the merged results (${errorMessage(cause)})`, { cause, file: target });
  }
  let open = true;
  try {
    let records = 0;
    for (const f of ordered) {
      const skip = check.duplicates.get(f);
      // Each line plus its newline; a line the reader dropped (a truncated tail) is not among them.
      const ranges = lines
        .get(f)!
        .filter((l) => !skip?.has(l.offset))
        .map((l): [number, number] => [l.offset, l.offset + l.length + 1]);
      const last = ranges.at(-1);
      if (last && last[1] > statSync(f).size) {
        // A whole last line without its newline: copy it and add one.
        last[1]--;
        copyRanges(f, ranges, fd);
        writeSync(fd, '\n');
      } else copyRanges(f, ranges, fd);
      records += ranges.length;
    }
    closeSync(fd);
    open = false;
    // The sidecars' blocks are self-contained: concatenating them is merging them.
    const sides = ordered.map(captureFileFor).filter((s) => existsSync(s));
    if (sides.length) {
      const sfd = openSync(sideTmp, 'wx');
      try {
        for (const s of sides) copyRanges(s, [[0, statSync(s).size]], sfd);
      } finally {
        closeSync(sfd);
      }
    }
    renameSync(tmp, target);
    const capture = sides.length ? captureFileFor(target) : null;
    if (capture) renameSync(sideTmp, capture);
    return { file: target, records, bytes: statSync(target).size, shards: ordered.length, capture };
  } catch (err) {
    if (open) closeSync(fd);
    for (const p of [tmp, sideTmp]) {
      try {
        unlinkSync(p);
      } catch {
        // not written
      }
    }
    throw err;
  }
}
