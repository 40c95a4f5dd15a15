import { type ChildProcess, fork } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelSpec } from '../../src/decode/session-model.ts';
import { DetbenchError } from '../../src/errors.ts';
import type { GenerationOutcome, GenerationRequest } from '../../src/runner-contract/types.ts';
import type { Placement } from '../ort-node/cuda-checks.ts';
import type { vulkanLibsOf } from './env.ts';

/** Messages between node-webgpu and its worker process (worker.ts), one reply per request. */

export interface OpenRequest {
  kind: 'open';
  onnxPath: string;
  spec: ModelSpec;
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
  kvOnGpu: boolean;
  /** A token id for the one-token warm-up pass that shows where present.* lands. */
  warmupToken: number;
}

export type ToWorker = { kind: 'probe' } | OpenRequest | { kind: 'generate'; requests: GenerationRequest[] } | { kind: 'close' };

/** What the worker saw of its own process: onnxruntime and the Vulkan libraries mapped into it. */
export interface WorkerFacts {
  onnxruntime: string | null;
  vulkan: ReturnType<typeof vulkanLibsOf>;
}

export interface Opened {
  kind: 'opened';
  sessionMs: number;
  kvType: string;
  /** From the verbose log of an identical placement-only session; null with the reason when unreadable. */
  placement: Placement | null;
  placementError?: string;
  /** Where present.0.key came back from a one-token pass. */
  kvLocation: string | null;
  facts: WorkerFacts;
}

export type FromWorker =
  | { kind: 'probed'; facts: WorkerFacts }
  | Opened
  | { kind: 'generated'; outcomes: GenerationOutcome[] }
  | { kind: 'closed' }
  | { kind: 'error'; code: string; message: string };

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** tsx's loader, resolved here so the child finds it whatever its working directory. */
const TSX = createRequire(import.meta.url).resolve('tsx');

/**
 * One worker process: started with the ICD environment, it holds one onnxruntime session. Its
 * stdout and stderr (onnxruntime's log, Dawn's messages) go to a file, which the worker reads for
 * node placement and the parent quotes when the worker dies.
 */
export class WebgpuWorker {
  private readonly child: ChildProcess;
  private readonly dir: string;
  readonly logFile: string;
  private pending: { resolve(m: FromWorker): void; reject(e: Error): void } | null = null;
  private exited: string | null = null;

  constructor(env: NodeJS.ProcessEnv) {
    this.dir = mkdtempSync(join(tmpdir(), 'detbench-webgpu-'));
    this.logFile = join(this.dir, 'worker.log');
    const fd = openSync(this.logFile, 'a');
    try {
      this.child = fork(WORKER, [], {
        execArgv: ['--import', TSX],
        env: { ...env, DETBENCH_WEBGPU_LOG: this.logFile },
        stdio: ['ignore', fd, fd, 'ipc'],
        serialization: 'advanced',
      });
    } finally {
      closeSync(fd);
    }
    this.child.on('message', (m: FromWorker) => {
      const p = this.pending;
      this.pending = null;
      p?.resolve(m);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = signal ? `signal ${signal}` : `code ${code}`;
      const p = this.pending;
      this.pending = null;
      p?.reject(new DetbenchError('WORKER_CRASHED', `node-webgpu worker exited (${this.exited}); its log ends: ${this.logTail()}`));
    });
    this.child.on('error', (err) => {
      const p = this.pending;
      this.pending = null;
      p?.reject(err);
    });
  }

  /** Whether the worker process has ended (crashed, killed or closed). */
  get alive(): boolean {
    return this.exited === null;
  }

  /**
   * Sends one request and waits for its reply; an `error` reply becomes a DetbenchError. With
   * `timeoutMs`, a worker that does not answer in time is killed (WORKER_TIMEOUT).
   */
  async request(msg: ToWorker, timeoutMs?: number): Promise<FromWorker> {
    if (this.exited) throw new DetbenchError('WORKER_CRASHED', `node-webgpu worker already exited (${this.exited}); its log ends: ${this.logTail()}`);
    if (this.pending) throw new Error('node-webgpu worker: one request at a time');
    let timer: NodeJS.Timeout | undefined;
    const reply = await new Promise<FromWorker>((resolve, reject) => {
      this.pending = { resolve, reject };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const p = this.pending;
          this.pending = null;
          this.exited ??= `killed after ${timeoutMs} ms without an answer`;
          this.child.kill('SIGKILL');
          p?.reject(
            new DetbenchError('WORKER_TIMEOUT', `node-webgpu worker gave no answer within ${timeoutMs} ms and was killed; its log ends: ${this.logTail()}`),
          );
        }, timeoutMs);
      }
      this.child.send(msg, (err) => {
        if (err && this.pending) {
          this.pending = null;
          reject(err);
        }
      });
    }).finally(() => clearTimeout(timer));
    if (reply.kind === 'error') throw new DetbenchError(reply.code, reply.message);
    return reply;
  }

  /** The last lines of the worker's log that say something (onnxruntime's per-kernel chatter left out). */
  logTail(lines = 6): string {
    try {
      const text = readFileSync(this.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() && !l.includes('Starting program'));
      return text.slice(-lines).join(' | ').slice(-2000) || '(empty)';
    } catch {
      return '(no log)';
    }
  }

  /** Dawn's own words on Vulkan and adapters from the log (why a driver was rejected), one line each. */
  dawnMessages(): string[] {
    try {
      const lines = readFileSync(this.logFile, 'utf8')
        .split('\n')
        .map((l) => l.trim());
      return [...new Set(lines.filter((l) => /vulkan|adapter/i.test(l) && !/^at |\[[VIWE]:onnxruntime/.test(l)))].slice(0, 6);
    } catch {
      return [];
    }
  }

  /** Asks the worker to close, kills it if it does not exit within `graceMs`, removes the log. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.request({ kind: 'close' }).catch(() => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
