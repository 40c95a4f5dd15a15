import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ContinuousBatch, TokenEvent } from '../decode/continuous.ts';
import type { DecodeRequest } from '../decode/types.ts';
import type { Batchable, BatchingOptions } from './batcher.ts';

/** A request the continuous scheduler runs. */
export interface ContinuousJob extends Batchable {
  decode: DecodeRequest;
}

/** What the scheduler tells the server about its jobs. */
export interface SchedulerHooks<J> {
  /** The job's prefill is about to run, in a group of `groupSize` joiners, beside `running` rows. */
  joined(job: J, groupSize: number, running: number): void;
  /** A token was chosen for the job (the last one when `event.finished` is set). */
  token(job: J, event: TokenEvent<J>): void;
  /** The job failed (its prefill, or a step it ran in, threw). */
  failed(job: J, err: unknown): void;
  /** The job left without an answer: its client went away. */
  withdrawn(job: J): void;
  log(line: string): void;
}

/**
 * Iteration-level scheduling over one {@link ContinuousBatch}, as vLLM's and SGLang's schedulers do
 * it: before every step, the jobs that went away leave and waiting jobs join (up to `maxBatch`
 * rows), then one step runs over everyone, and finished jobs leave at once. Between steps the loop
 * yields to the event loop, so new requests are read while others decode. When nothing runs, the
 * first waiting job waits up to `windowMs` for companions.
 */
export class ContinuousScheduler<J extends ContinuousJob> {
  private readonly queue: J[] = [];
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly batch: ContinuousBatch<J>,
    private readonly opts: BatchingOptions,
    private readonly hooks: SchedulerHooks<J>,
  ) {
    if (!(opts.maxBatch >= 1)) throw new RangeError(`maxBatch must be >= 1, got ${opts.maxBatch}`);
  }

  /** Jobs waiting to join (not counting those whose client has gone: they leave at the next step boundary). */
  get waiting(): number {
    return this.queue.filter((j) => !j.cancelled()).length;
  }

  /** Jobs decoding now (rows of the batch, cache included). */
  get running(): number {
    return this.batch.size;
  }

  submit(job: J): void {
    this.queue.push(job);
    this.wake?.();
    this.loop ??= this.run().finally(() => {
      this.loop = null;
      if (this.queue.length) this.submit(this.queue.shift()!);
    });
  }

  /** Resolves when nothing runs and nothing waits. */
  async idle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  private async run(): Promise<void> {
    for (;;) {
      for (const job of this.batch.withdraw((j) => j.cancelled())) this.hooks.withdrawn(job);
      for (let i = this.queue.length - 1; i >= 0; i--) {
        if (this.queue[i]!.cancelled()) this.hooks.withdrawn(this.queue.splice(i, 1)[0]!);
      }
      if (this.batch.size === 0 && this.queue.length === 0) return;
      if (this.batch.size === 0 && this.queue.length < this.opts.maxBatch) {
        const wait = this.opts.windowMs - (performance.now() - this.queue[0]!.arrivedAt);
        if (wait > 0) {
          await this.sleep(wait);
          continue;
        }
      }
      const room = this.opts.maxBatch - this.batch.size;
      if (room > 0 && this.queue.length > 0) await this.admit(this.queue.splice(0, room));
      if (this.batch.size > 0) {
        try {
          await this.batch.step((e) => this.hooks.token(e.tag, e));
        } catch (err) {
          this.hooks.log(`step of ${this.batch.size} failed: ${err instanceof Error ? err.message : String(err)}`);
          for (const job of this.batch.clear()) this.hooks.failed(job, err);
        }
      }
      // onnxruntime-node computes on this thread: let the server read new requests between steps.
      await nextTurn();
    }
  }

  /** Prefills `jobs` beside the running batch; a failure fails only them. */
  private async admit(jobs: J[]): Promise<void> {
    const running = this.batch.size;
    for (const job of jobs) this.hooks.joined(job, jobs.length, running);
    try {
      await this.batch.join(
        jobs.map((tag) => ({ tag, req: tag.decode })),
        (e) => this.hooks.token(e.tag, e),
      );
    } catch (err) {
      this.hooks.log(`prefill of ${jobs.length} failed: ${err instanceof Error ? err.message : String(err)}`);
      for (const job of jobs) this.hooks.failed(job, err);
    }
  }

  /** Waits `ms`, or less if a job arrives (it may fill the batch). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
