import { closeSync, openSync, readSync } from 'node:fs';
import { DetbenchError } from '../errors.ts';
import type { RecordHead } from './heads.ts';
import { parseBytes, type RecordLocation } from './lean.ts';
import { type CompletedRecord, type ResultRecord, recordKey } from './record.ts';
import { checkRecord } from './validate.ts';

/**
 * Records on disk, known by their heads, read back one at a time from where the first pass found
 * them (`heads.ts`): the streaming metrics read each unit's records through here, and the report
 * the few it shows in full. Files stay open until {@link close}.
 */
export class RecordStore {
  private readonly where = new Map<RecordHead, RecordLocation>();
  private readonly byKey = new Map<string, RecordHead>();
  private readonly fds = new Map<string, number>();

  /** Notes a head and where its record lies. */
  add(head: RecordHead, where: RecordLocation): void {
    this.where.set(head, where);
  }

  /** Makes `heads` (the records that count) findable by {@link full}. */
  index(heads: readonly RecordHead[]): void {
    for (const h of heads) this.byKey.set(recordKey(h), h);
  }

  /** Where a head's record lies. */
  locate(head: RecordHead): RecordLocation {
    const w = this.where.get(head);
    if (!w) throw new Error(`record store: no location for ${head.id}`);
    return w;
  }

  /** The record of `head`, validated; `lean` skips the per-step fields only a display of single steps needs. */
  read(head: RecordHead, lean: boolean): ResultRecord {
    return this.readLine(head, lean).record;
  }

  /** {@link read}, with the line's bytes (to restore a lean read without reading again, see `restoreFrom`). */
  readLine(head: RecordHead, lean: boolean): { record: ResultRecord; line: Buffer } {
    const w = this.locate(head);
    const line = this.bytes(w);
    return { record: checkRecord(parseBytes(line, lean, w.file, w.line), w.file, w.line), line };
  }

  /** A completed record in full, by id and profile; undefined when the results hold no such completed record. */
  full(ref: { recordId: string; profileId: string }): CompletedRecord | undefined {
    const h = this.byKey.get(recordKey({ id: ref.recordId, profile: { id: ref.profileId } }));
    if (h?.status !== 'completed') return undefined;
    return this.read(h, false) as CompletedRecord;
  }

  private bytes(w: RecordLocation): Buffer {
    let fd = this.fds.get(w.file);
    try {
      if (fd === undefined) {
        fd = openSync(w.file, 'r');
        this.fds.set(w.file, fd);
      }
      const buf = Buffer.allocUnsafe(w.length);
      let got = 0;
      while (got < w.length) {
        const n = readSync(fd, buf, got, w.length - got, w.offset + got);
        if (n === 0) break;
        got += n;
      }
      if (got < w.length) throw new Error(`the file is shorter than when it was first read (line ${w.line})`);
      return buf;
    } catch (cause) {
      throw new DetbenchError('RESULTS_UNREADABLE', `${w.file}: cannot read results file (${(cause as Error).message})`, { cause, file: w.file });
    }
  }

  /** Closes the files. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
