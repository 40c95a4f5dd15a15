/**
 * Checks that results files are the complete set of one sharded run (see `src/run/shard.ts`): one
 * suite (the same suite hash in every record), shards 1..n each exactly once, each with every record
 * it planned, and a record id present in two files the same record. `merge`, `report` and `gate`
 * all feed their records through {@link ShardCheck} and call `verify()` before using them.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { DetbenchError } from '../errors.ts';
import { type ResultRecord, recordKey } from './record.ts';

/** Where a record's line lies (what the streaming reader reports). */
export interface LineAt {
  file: string;
  offset: number;
  length: number;
  line: number;
}

function bytesAt(w: LineAt): Buffer {
  const fd = openSync(w.file, 'r');
  try {
    const b = Buffer.alloc(w.length);
    readSync(fd, b, 0, w.length, w.offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** What a sharded run writes into each record: its shard, and how many records that shard plans. */
export interface RecordShard {
  index: number;
  count: number;
  /** Records the shard's run plans (free and teacher-forced cells). */
  planned: number;
}

/** One shard as the files hold it. A merged file holds every shard; a shard's file holds one. */
interface ShardState {
  index: number;
  count: number;
  planned: number;
  /** Files that hold records of this shard (more than one: the shard was given twice). */
  files: string[];
  /** Records held, by profile and id (a resumed retry is the same slot). */
  keys: Set<string>;
}

/** What the check reads of a record (its head is enough, see `heads.ts`). */
type ShardedHead = Pick<ResultRecord, 'id' | 'profile' | 'suite' | 'shard'>;

function shardOf(r: ShardedHead): RecordShard | null {
  return r.shard ?? null;
}

function suiteHashOf(r: ShardedHead): string | null {
  return r.suite.hash ?? null;
}

/** Collects what the files hold, record by record, and judges the set. */
export class ShardCheck {
  private readonly files: string[] = [];
  private readonly shards = new Map<string, ShardState>();
  /** Lowest shard index per file, to order a merge. */
  private readonly firstShard = new Map<string, number>();
  private suite: { hash: string | null; id: string; file: string } | null = null;
  private sharded = false;
  private unsharded: string | null = null;
  /** Record key (profile, id) → where its first copy lies. */
  private readonly seen = new Map<string, LineAt>();
  /** Records of a file that another file also holds (identical copies), to leave out of a merge. */
  readonly duplicates = new Map<string, Set<number>>();
  private readonly problems: string[] = [];

  /** Notes one record, read from `at`. */
  add(r: ShardedHead, at: LineAt): void {
    const { file, line } = at;
    if (!this.firstShard.has(file)) {
      this.files.push(file);
      this.firstShard.set(file, Infinity);
    }
    const key = recordKey(r);
    const s = shardOf(r);
    if (s) {
      this.sharded = true;
      const k = `${s.index}/${s.count}`;
      let st = this.shards.get(k);
      if (!st) {
        st = { ...s, files: [], keys: new Set() };
        this.shards.set(k, st);
      }
      if (!st.files.includes(file)) st.files.push(file);
      if (s.planned !== st.planned) this.fail(`${file}:${line}: shard ${k} plans ${s.planned} records, elsewhere ${st.planned}`);
      st.keys.add(key);
      this.firstShard.set(file, Math.min(this.firstShard.get(file)!, s.index));
    } else this.unsharded ??= `${file}:${line}`;
    const hash = suiteHashOf(r);
    if (!this.suite) this.suite = { hash, id: r.suite.id, file };
    else if (hash !== this.suite.hash || r.suite.id !== this.suite.id) {
      this.fail(
        `${file}:${line}: suite ${r.suite.id} (hash ${hash ?? 'none'}) is not the suite of ${this.suite.file} (${this.suite.id}, hash ${this.suite.hash ?? 'none'})`,
      );
    }
    const first = this.seen.get(key);
    if (!first) this.seen.set(key, at);
    else if (first.file !== file) {
      // Across files the same id must be the very same record (byte for byte), never a re-run.
      if (bytesAt(first).equals(bytesAt(at))) {
        let d = this.duplicates.get(file);
        if (!d) {
          d = new Set();
          this.duplicates.set(file, d);
        }
        d.add(at.offset);
      } else this.fail(`${file}:${line}: record ${r.id} differs from the record of the same id in ${first.file}:${first.line}`);
    }
  }

  private fail(m: string): void {
    if (this.problems.length < 20) this.problems.push(m);
  }

  /** Whether any record carries a shard: only then does {@link verify} judge completeness. */
  get isSharded(): boolean {
    return this.sharded;
  }

  /**
   * Throws `SHARDS_INVALID` (one message listing every problem) unless the files are one suite and,
   * when sharded, shards 1..n each once and complete. Returns the files in shard order.
   */
  verify(): string[] {
    const problems = [...this.problems];
    if (this.sharded) {
      if (this.unsharded) problems.push(`${this.unsharded}: a record without a shard among sharded results`);
      const shards = [...this.shards.values()];
      const counts = new Set(shards.map((s) => s.count));
      if (counts.size > 1) problems.push(`the files disagree on the shard count: ${[...counts].join(', ')}`);
      const n = Math.max(...counts);
      const present = new Set(shards.map((s) => s.index));
      const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !present.has(i));
      if (missing.length) problems.push(`missing shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${n}`);
      for (const s of shards.sort((a, b) => a.index - b.index)) {
        if (s.files.length > 1) problems.push(`shard ${s.index}/${s.count} given twice: ${s.files.join(', ')}`);
        else if (s.keys.size < s.planned) {
          problems.push(
            `${s.files[0]}: shard ${s.index}/${s.count} has ${s.keys.size} of its ${s.planned} records (an unfinished run: finish it with --resume)`,
          );
        }
      }
    }
    if (problems.length) throw new DetbenchError('SHARDS_INVALID', `these results are not one complete sharded run:\n  ${problems.join('\n  ')}`);
    return [...this.files].sort((a, b) => this.firstShard.get(a)! - this.firstShard.get(b)!);
  }
}
