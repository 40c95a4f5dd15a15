/**
 * The capture sidecar: the full logits (or quantised log-probabilities) of every step of the
 * records a run captured, next to the results file (`results.jsonl` → `results.capture.bin`), so that
 * teacher-forced comparisons get exact KL divergence. Append-only like the JSONL, one block per
 * record, written before the record's line, so an interrupted run leaves at most one unfinished
 * block at the end (dropped on the next open, like a truncated JSONL line).
 *
 * Block layout, little-endian:
 *
 * | bytes | field |
 * | --- | --- |
 * | 8 | magic `DBCAPT01` |
 * | 1 | encoding: 1 = `f32` (raw float32 logits), 2 = `u16` (quantised log-probabilities, see `src/decode/capture.ts`) |
 * | 3 | zero |
 * | 4 | L, byte length of the record id |
 * | 4 | S, steps |
 * | 4 | V, vocabulary size |
 * | L | the record id, UTF-8 |
 * | `f32`: 4·S·V | the logits rows, step after step |
 * | `u16`: 8·S, 8·S, 2·S·V | each step's best log-probability (float64), each step's logits hash (the record's `steps.hash`, 8 bytes), the codes |
 *
 * So a step costs 4·V bytes (`f32`) or 2·V + 16 bytes (`u16`): 16,384 or 8,208 for a 4,096-token vocabulary.
 */
import { appendFileSync, closeSync, existsSync, ftruncateSync, openSync, readSync, statSync } from 'node:fs';
import type { CapturedRows, CaptureEncoding } from '../decode/capture.ts';
import { hashFloat32 } from '../decode/logits.ts';
import { DetbenchError } from '../errors.ts';
import { type CompletedRecord, recordKey } from './record.ts';

const MAGIC = Buffer.from('DBCAPT01', 'latin1');
const HEADER = 24;
const CODE: Record<CaptureEncoding, number> = { f32: 1, u16: 2 };

/** The sidecar of a results file: `x.jsonl` → `x.capture.bin`. */
export function captureFileFor(resultsFile: string): string {
  return `${resultsFile.replace(/\.jsonl$/, '')}.capture.bin`;
}

/** Bytes one step takes in a sidecar block: 4·V (`f32`) or 2·V + 16 (`u16`). */
export function sidecarBytesPerStep(encoding: CaptureEncoding, vocab: number): number {
  return encoding === 'f32' ? 4 * vocab : 2 * vocab + 16;
}

/** Bytes of one block's payload after its header and id. */
function payloadBytes(encoding: number, steps: number, vocab: number): number {
  return encoding === 1 ? 4 * steps * vocab : 16 * steps + 2 * steps * vocab;
}

interface BlockHeader {
  encoding: number;
  idBytes: number;
  steps: number;
  vocab: number;
}

function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

function parseHeader(b: Buffer): BlockHeader | null {
  if (b.length < HEADER || !b.subarray(0, 8).equals(MAGIC)) return null;
  const encoding = b.readUInt8(8);
  if (encoding !== 1 && encoding !== 2) return null;
  return { encoding, idBytes: b.readUInt32LE(12), steps: b.readUInt32LE(16), vocab: b.readUInt32LE(20) };
}

/** Where one record's block lies. */
interface BlockAt {
  offset: number;
  header: BlockHeader;
}

/**
 * Scans a sidecar's block headers (not their data). A damaged block before the end is an error;
 * an unfinished last block (a run killed mid-write) is reported by `truncatedAt`.
 */
function scan(file: string): { blocks: Map<string, BlockAt>; end: number; truncatedAt: number | null } {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  const blocks = new Map<string, BlockAt>();
  try {
    let at = 0;
    while (at < size) {
      const header = parseHeader(readAt(fd, HEADER, at));
      if (!header) {
        if (size - at < HEADER) return { blocks, end: at, truncatedAt: at };
        throw new DetbenchError('CAPTURE_INVALID', `${file}: byte ${at}: not a capture block (expected the magic DBCAPT01 and encoding 1 or 2)`, { file });
      }
      const total = HEADER + header.idBytes + payloadBytes(header.encoding, header.steps, header.vocab);
      if (at + total > size) return { blocks, end: at, truncatedAt: at };
      const id = readAt(fd, header.idBytes, at + HEADER).toString('utf8');
      // A block written again (a record re-run after an interrupted write) replaces the earlier one.
      blocks.set(id, { offset: at, header });
      at += total;
    }
    return { blocks, end: at, truncatedAt: null };
  } finally {
    closeSync(fd);
  }
}

/** Appends capture blocks to a sidecar (created, or kept and cleaned of an unfinished last block). */
export class CaptureWriter {
  constructor(
    readonly file: string,
    readonly encoding: CaptureEncoding,
  ) {
    try {
      closeSync(openSync(file, 'a'));
    } catch (cause) {
      throw new DetbenchError('OUTPUT_UNWRITABLE', `${file}: cannot write the capture file (${(cause as Error).message})`, { cause, file });
    }
    const { truncatedAt } = scan(file);
    if (truncatedAt !== null) {
      const fd = openSync(file, 'r+');
      try {
        ftruncateSync(fd, truncatedAt);
      } finally {
        closeSync(fd);
      }
    }
  }

  /** Writes one record's rows in one append call; `hashes` are the record's `steps.hash`. */
  append(recordId: string, hashes: readonly string[], rows: CapturedRows): void {
    if (rows.encoding !== this.encoding) throw new Error(`capture: a ${rows.encoding} block for a ${this.encoding} sidecar`);
    const id = Buffer.from(recordId, 'utf8');
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header, 0);
    header.writeUInt8(CODE[rows.encoding], 8);
    header.writeUInt32LE(id.length, 12);
    header.writeUInt32LE(rows.steps, 16);
    header.writeUInt32LE(rows.vocab, 20);
    const parts: Buffer[] = [header, id];
    if (rows.encoding === 'u16') {
      parts.push(Buffer.from(Float64Array.from(rows.top).buffer));
      parts.push(Buffer.concat(hashes.slice(0, rows.steps).map((h) => Buffer.from(h.padStart(16, '0'), 'hex'))));
    }
    parts.push(Buffer.from(rows.data.buffer, rows.data.byteOffset, rows.data.byteLength));
    appendFileSync(this.file, Buffer.concat(parts));
  }
}

/** The capture blocks of one sidecar, read on demand and checked against the records they belong to. */
export class CaptureReader {
  private readonly blocks: Map<string, BlockAt>;
  /** Set when the sidecar ends in an unfinished block (an interrupted run); that record has no capture. */
  readonly truncated: boolean;

  constructor(readonly file: string) {
    if (!existsSync(file)) throw new DetbenchError('CAPTURE_NOT_FOUND', `${file}: no such capture file`, { file });
    const s = scan(file);
    this.blocks = s.blocks;
    this.truncated = s.truncatedAt !== null;
  }

  /** Record ids with a block. */
  ids(): string[] {
    return [...this.blocks.keys()];
  }

  /**
   * The rows of `record`, or undefined when the sidecar has no block for it. A block whose step
   * count or logits hashes disagree with the record is an error: the sidecar belongs to other results.
   */
  rows(record: CompletedRecord): CapturedRows | undefined {
    const at = this.blocks.get(record.id);
    if (!at) return undefined;
    const { steps, vocab, encoding, idBytes } = at.header;
    const hashes = record.steps.hash ?? [];
    const where = `${this.file}: capture of ${record.id}`;
    if (steps !== hashes.length) {
      throw new DetbenchError('CAPTURE_MISMATCH', `${where}: ${steps} steps, but the record has ${hashes.length}`, { file: this.file });
    }
    const fd = openSync(this.file, 'r');
    let payload: Buffer;
    try {
      payload = readAt(fd, payloadBytes(encoding, steps, vocab), at.offset + HEADER + idBytes);
    } finally {
      closeSync(fd);
    }
    // Copy into fresh, aligned memory: the typed arrays below need it.
    const bytes = new Uint8Array(payload);
    if (encoding === 1) {
      const data = new Float32Array(bytes.buffer, 0, steps * vocab);
      for (let i = 0; i < steps; i++) {
        const h = hashFloat32(data.subarray(i * vocab, (i + 1) * vocab));
        if (h !== hashes[i])
          throw new DetbenchError('CAPTURE_MISMATCH', `${where}: step ${i}'s logits hash ${h}, but the record says ${hashes[i]}`, { file: this.file });
      }
      return { encoding: 'f32', vocab, steps, data };
    }
    const top = Array.from(new Float64Array(bytes.buffer, 0, steps));
    for (let i = 0; i < steps; i++) {
      const h = Buffer.from(bytes.buffer, 8 * steps + 8 * i, 8).toString('hex');
      if (h !== hashes[i]!.padStart(16, '0'))
        throw new DetbenchError('CAPTURE_MISMATCH', `${where}: step ${i}'s logits hash ${h}, but the record says ${hashes[i]}`, { file: this.file });
    }
    const data = new Uint16Array(bytes.buffer, 16 * steps, steps * vocab);
    return { encoding: 'u16', vocab, steps, top, data };
  }
}

/**
 * The sidecars of several results files, looked up by the file each record was read from (the
 * same record id can come from two machines). Implements the metrics' `CaptureSource`.
 */
export class CaptureSet {
  private readonly readers = new Map<string, CaptureReader>();
  /** By {@link keyOf}: restored copies of lean-read records must find their file too. */
  private readonly fileOf = new Map<string, string>();

  /** Opens `resultsFile`'s sidecar if it has one; returns whether it does. */
  addResults(resultsFile: string): boolean {
    const side = captureFileFor(resultsFile);
    if (!existsSync(side)) return false;
    this.readers.set(resultsFile, new CaptureReader(side));
    return true;
  }

  /** Notes that `record` was read from `resultsFile`. */
  note(record: CompletedRecord | { status: string }, resultsFile: string): void {
    if (record.status === 'completed' && this.readers.has(resultsFile)) this.fileOf.set(keyOf(record as CompletedRecord), resultsFile);
  }

  get size(): number {
    return this.readers.size;
  }

  rows(record: CompletedRecord): CapturedRows | undefined {
    const file = this.fileOf.get(keyOf(record));
    return file === undefined ? undefined : this.readers.get(file)!.rows(record);
  }
}

function keyOf(r: CompletedRecord): string {
  // recordKey plus the start time: a resumed retry of the same id has a capture of its own.
  return `${recordKey(r)}\u0000${r.startedAt}`;
}
