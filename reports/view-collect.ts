import type { RecordHead } from '../src/results/heads.ts';
import type { ResultRecord } from '../src/results/record.ts';
import type { ReportData } from './data.ts';

/** Every k-th index of `n` so that at most `max` remain (deterministic, keeps the spread). */
export function thinIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const step = n / max;
  return Array.from({ length: max }, (_, i) => Math.floor(i * step));
}

/** What the page needs of records it does not show whole, gathered while the metrics read them. */
export interface ViewCollected {
  /** Latency points of free-running records, a spread of at most `maxLatency`, in read order. */
  latency: ReportData['latency'];
  /** Positions of the records the explorer could show (free, alone, repetition 0, with token ids), in read order. */
  explorable: number[];
  /** The text of a token id where it first occurs in the records (read order), to name candidate ids. */
  tokenText(id: number): string | undefined;
}

/**
 * Gathers, unit by unit as the streaming metrics read the records (`src/results/stream-metrics.ts`),
 * the little the page takes from every record: sampled latency points, which completions the
 * explorer may show, and the texts of token ids. Fixed size whatever the study's size (token texts:
 * at most the vocabulary).
 */
export class ViewCollector {
  private readonly slots = new Map<number, number>();
  private readonly points: (ReportData['latency'][number] | undefined)[];
  private readonly explorable = new Set<number>();
  /** Token id → [position, text] of its first occurrence. */
  private readonly names = new Map<number, [number, string]>();

  constructor(
    private readonly heads: readonly RecordHead[],
    private readonly keyOf: (r: RecordHead) => string,
    maxLatency: number,
  ) {
    const free: number[] = [];
    heads.forEach((r, i) => {
      if (r.status === 'completed' && r.mode !== 'teacher-forced') free.push(i);
    });
    const picked = thinIndices(free.length, maxLatency);
    for (const [slot, k] of picked.entries()) this.slots.set(free[k]!, slot);
    this.points = new Array(picked.length);
  }

  /** Notes one unit's records: `records[i]` is the record at head position `positions[i]`. */
  addUnit(records: readonly ResultRecord[], positions: readonly number[]): void {
    positions.forEach((pos, i) => {
      const r = records[i]!;
      if (r.status !== 'completed') return;
      const slot = this.slots.get(pos);
      if (slot !== undefined) {
        this.points[slot] = {
          runner: this.keyOf(this.heads[pos]!),
          ttftMs: num(r.timings.ttftMs),
          tokensPerSecond: num(r.timings.tokensPerSecond),
          // Recorded by run --jobs: how many worker processes decoded beside this one.
          parallelJobs: typeof r.environment.parallelJobs === 'number' ? r.environment.parallelJobs : 1,
        };
      }
      if (r.mode !== 'teacher-forced' && r.batchSize === 1 && r.repetition === 0 && r.tokens.length > 0) this.explorable.add(pos);
      const n = Math.min(r.tokens.length, r.tokenTexts.length);
      for (let k = 0; k < n; k++) {
        const id = r.tokens[k]!;
        const cur = this.names.get(id);
        if (!cur || cur[0] > pos) this.names.set(id, [pos, r.tokenTexts[k]!]);
      }
    });
  }

  /** What was gathered. */
  result(): ViewCollected {
    return {
      latency: this.points.filter((p): p is ReportData['latency'][number] => p !== undefined),
      explorable: [...this.explorable].sort((a, b) => a - b),
      tokenText: (id) => this.names.get(id)?.[1],
    };
  }
}

function num(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
