import type { Cell } from '../suite/expand.ts';

/** A forward-pass batch: the cells whose results are kept, plus filler prompts that complete it. */
export interface Batch {
  cells: Cell[];
  /** Prompt ids of every row in order; rows past `cells.length` are fillers whose results are dropped. */
  rowPrompts: string[];
}

/**
 * Groups a runner's cells into batches of `cell.batchSize` rows: cells that share setting,
 * repetition and batch size go together in prompt order; a short last batch is filled with the
 * suite's other prompts (cycling), so every cell really runs inside a batch of its size.
 */
export function planBatches(cells: Cell[], allPromptIds: string[]): Batch[] {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    const key = `${c.settingId}\u0000${c.repetition}\u0000${c.batchSize}`;
    let list = groups.get(key);
    if (!list) {
      list = [];
      groups.set(key, list);
    }
    list.push(c);
  }
  const out: Batch[] = [];
  for (const list of groups.values()) {
    const size = list[0]!.batchSize;
    for (let i = 0; i < list.length; i += size) {
      const chunk = list.slice(i, i + size);
      const rowPrompts = chunk.map((c) => c.promptId);
      for (let f = 0; rowPrompts.length < size; f++) rowPrompts.push(allPromptIds[f % allPromptIds.length]!);
      out.push({ cells: chunk, rowPrompts });
    }
  }
  return out;
}
