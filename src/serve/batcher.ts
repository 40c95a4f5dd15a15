/** A job the batcher can hold: when it arrived, and whether its client is gone. */
export interface Batchable {
  /** performance.now() at arrival. */
  arrivedAt: number;
  /** True once nobody waits for the answer (client disconnected): the job is dropped unrun. */
  cancelled(): boolean;
}

/** How jobs are grouped. */
export interface BatchingOptions {
  /**
   * `continuous` (default): requests join and leave the running batch at every step boundary.
   * `static`: a batch is formed once and decoded to the end; later requests wait for the next.
   */
  mode?: 'continuous' | 'static';
  /** Largest batch. 1 runs every job alone. */
  maxBatch: number;
  /** How long the first waiting job waits for others to join it (when nothing is running). */
  windowMs: number;
}

/**
 * Dynamic batching, one batch at a time: a batch starts when `maxBatch` jobs wait, or when the
 * oldest waiting job has waited `windowMs`; it takes every job waiting then (up to `maxBatch`).
 * Jobs that arrive while a batch runs wait for the next one. So the batch a request lands in, and
 * with it the shapes of every forward pass, depends on what else the server was asked at the time.
 */
export class DynamicBatcher<J extends Batchable> {
  private readonly queue: J[] = [];
  private running: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly run: (jobs: J[]) => Promise<void>,
    private readonly opts: BatchingOptions,
  ) {
    if (!(opts.maxBatch >= 1)) throw new RangeError(`maxBatch must be >= 1, got ${opts.maxBatch}`);
  }

  /** Jobs waiting for a batch. */
  get waiting(): number {
    return this.queue.length;
  }

  submit(job: J): void {
    this.queue.push(job);
    this.schedule();
  }

  /** Resolves when no batch is running and none is waiting. */
  async idle(): Promise<void> {
    while (this.running || this.queue.length) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 1));
    }
  }

  private schedule(): void {
    if (this.running) return;
    for (let j = this.queue[0]; j?.cancelled(); j = this.queue[0]) this.queue.shift();
    if (this.queue.length === 0) return;
    const waited = performance.now() - this.queue[0]!.arrivedAt;
    if (this.queue.length >= this.opts.maxBatch || waited >= this.opts.windowMs) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.start();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.opts.windowMs - waited);
    }
  }

  private start(): void {
    const jobs = this.queue.splice(0, this.opts.maxBatch).filter((j) => !j.cancelled());
    if (jobs.length === 0) {
      this.schedule();
      return;
    }
    this.running = this.run(jobs)
      .catch(() => {
        // `run` answers its own jobs, errors included; nothing may stop the queue.
      })
      .finally(() => {
        this.running = null;
        this.schedule();
      });
  }
}
