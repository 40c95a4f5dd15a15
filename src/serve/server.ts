import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DecodeRequest } from '../decode/types.ts';
import { type Batchable, DynamicBatcher } from './batcher.ts';
import { describeBatching, type Engine, type EngineOptions, openEngine } from './engine.ts';
import { ClientGone, readBody, sendJson } from './http-io.ts';
import { ApiError, type Endpoint, type ParsedRequest, parseRequest, samplingOf } from './protocol.ts';
import { Responder, sendError } from './respond.ts';
import { ContinuousScheduler } from './scheduler.ts';

export { BATCH_HEADER, BATCH_SIZES_HEADER } from './respond.ts';

/** Options of {@link startServe}. */
export interface ServeOptions extends EngineOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** The model id clients must send (default: the model folder's name). */
  modelName?: string;
  /** One line per batch (static) or membership change (continuous), per failure and per client gone; default silent. */
  log?: (line: string) => void;
}

/** A running server. */
export interface ServeHandle {
  /** Base URL for clients, ending in /v1. */
  url: string;
  port: number;
  modelName: string;
  engine: Engine;
  /** Stops accepting, closes connections, waits for the running batch, releases the session. */
  close(): Promise<void>;
}

/** A request waiting for (or running in) a batch. */
interface Job extends Batchable {
  decode: DecodeRequest;
  responder: Responder;
  /** Resolves the request's handler; idempotent. */
  done: () => void;
}

const MAX_COMPLETIONS_DEFAULT = 16;

/**
 * `detbench serve`: an OpenAI-compatible server for a local model (`/v1/chat/completions`,
 * `/v1/completions`, `/v1/models`), decoding through the same loop as the node-cpu runner.
 * Concurrent requests are batched continuously (they join and leave the running batch between
 * steps), statically (one batch at a time), or decoded one by one with batching off; each response
 * says the batch sizes its tokens were computed in.
 */
export async function startServe(opts: ServeOptions): Promise<ServeHandle> {
  const engine = await openEngine(opts);
  const modelName = opts.modelName ?? engine.model.name;
  const log = opts.log ?? (() => {});
  const config = engine.model.config;
  const mode = opts.batching ? (opts.batching.mode ?? 'continuous') : 'off';

  let staticRunning = 0;
  const runStatic = async (jobs: Job[]) => {
    const t0 = performance.now();
    staticRunning = jobs.length;
    jobs.forEach((j, i) => {
      j.responder.start(jobs.length, i, t0 - j.arrivedAt);
    });
    try {
      const results = await engine.decodeBatch(
        jobs.map((j) => j.decode),
        (e) => jobs[e.row]!.responder.step(e, jobs.length),
      );
      results.forEach((r, i) => {
        jobs[i]!.responder.finish(r);
      });
      log(`batch of ${jobs.length} in ${(performance.now() - t0).toFixed(1)} ms`);
    } catch (err) {
      log(`batch of ${jobs.length} failed: ${err instanceof Error ? err.message : String(err)}`);
      for (const j of jobs) j.responder.fail(err);
    } finally {
      staticRunning = 0;
      for (const j of jobs) j.done();
    }
  };

  /** Where jobs go: the continuous scheduler, or the one-batch-at-a-time batcher (static, and off as batches of 1). */
  let queue: { submit(job: Job): void; waiting: number; running: number; idle(): Promise<void> };
  if (mode === 'continuous') {
    const scheduler = new ContinuousScheduler<Job>(engine.openBatch<Job>(), opts.batching!, {
      joined: (job, group, running) => {
        job.responder.start(group, null, performance.now() - job.arrivedAt);
        if (running > 0) log(`${group} joining ${running} running`);
      },
      token: (job, e) => {
        job.responder.step(e, e.batchSize);
        if (e.finished) {
          job.responder.finish({ finishReason: e.finished });
          job.done();
        }
      },
      failed: (job, err) => {
        job.responder.fail(err);
        job.done();
      },
      withdrawn: (job) => {
        log('client went away: its request left the batch');
        job.done();
      },
      log,
    });
    queue = scheduler;
  } else {
    const batcher = new DynamicBatcher<Job>(runStatic, opts.batching ?? { maxBatch: 1, windowMs: 0 });
    queue = {
      submit: (job) => batcher.submit(job),
      get waiting() {
        return batcher.waiting;
      },
      get running() {
        return staticRunning;
      },
      idle: () => batcher.idle(),
    };
  }

  /** Tokenizes, checks the context, queues, and resolves once the answer is written. */
  const complete = (p: ParsedRequest, res: ServerResponse): Promise<void> => {
    let promptIds: number[];
    if ('messages' in p.input) promptIds = engine.encodeChat(p.input.messages);
    else if ('prompt' in p.input) promptIds = engine.encodePrompt(p.input.prompt);
    else {
      promptIds = p.input.promptIds;
      const bad = promptIds.find((id) => id >= config.vocabSize);
      if (bad !== undefined)
        throw new ApiError(400, `Token id ${bad} is outside the vocabulary (${config.vocabSize}).`, 'invalid_request_error', 'prompt', 'invalid_value');
    }
    const room = config.maxPositions - promptIds.length;
    const maxTokens = p.maxTokens ?? (p.endpoint === 'chat' ? room : Math.min(MAX_COMPLETIONS_DEFAULT, room));
    if (maxTokens < 1 || maxTokens > room) {
      throw new ApiError(
        400,
        `This model's maximum context length is ${config.maxPositions} tokens. However, you requested ${promptIds.length + Math.max(maxTokens, 1)} tokens (${promptIds.length} in the prompt, ${Math.max(maxTokens, 1)} for the completion).`,
        'invalid_request_error',
        p.endpoint === 'chat' ? 'messages' : 'prompt',
        'context_length_exceeded',
      );
    }
    const drawn = randomInt(2 ** 31);
    const sampling = samplingOf(p, drawn);
    const responder = new Responder(
      {
        req: p,
        modelName,
        systemFingerprint: engine.systemFingerprint,
        tokenizer: engine.model.tokenizer,
        stopIds: config.eosTokenIds,
        promptIds,
        seed: sampling.kind === 'sample' ? sampling.seed : null,
        batching: mode,
      },
      res,
    );
    return new Promise<void>((resolve) => {
      let finished = false;
      // The continuous scheduler says so itself when it withdraws the request.
      if (mode !== 'continuous') {
        res.on('close', () => {
          if (!finished) log('client went away before its answer');
        });
      }
      queue.submit({
        arrivedAt: performance.now(),
        cancelled: () => res.destroyed,
        decode: { promptIds, maxNewTokens: maxTokens, sampling, stopIds: config.eosTokenIds, topK: Math.max(1, p.topLogprobs ?? 1) },
        responder,
        done: () => {
          finished = true;
          resolve();
        },
      });
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const endpoints: Record<string, Endpoint> = { '/v1/chat/completions': 'chat', '/v1/completions': 'completions' };
    const modelObject = { id: modelName, object: 'model', created: Math.floor(Date.now() / 1000), owned_by: 'detbench' };
    if (method === 'GET' && path === '/health') {
      return sendJson(res, 200, { status: 'ok', model: modelName, batching: describeBatching(opts.batching), running: queue.running, waiting: queue.waiting });
    }
    if (method === 'GET' && path === '/v1/models') return sendJson(res, 200, { object: 'list', data: [modelObject] });
    if (method === 'GET' && path.startsWith('/v1/models/')) {
      const raw = path.slice('/v1/models/'.length);
      let id: string;
      try {
        id = decodeURIComponent(raw);
      } catch {
        throw new ApiError(
          404,
          `The model \`${raw}\` does not exist (its name is not valid percent-encoded UTF-8).`,
          'invalid_request_error',
          'model',
          'model_not_found',
        );
      }
      if (id === modelName) return sendJson(res, 200, modelObject);
      throw new ApiError(404, `The model \`${id}\` does not exist.`, 'invalid_request_error', 'model', 'model_not_found');
    }
    const endpoint = endpoints[path];
    if (!endpoint) {
      const known = path === '/v1/models' || path === '/health';
      if (known) throw new ApiError(405, `${method} is not allowed on ${path}.`, 'invalid_request_error', null, 'method_not_allowed');
      throw new ApiError(404, `Unknown request URL: ${method} ${path}.`, 'invalid_request_error', null, 'unknown_url');
    }
    if (method !== 'POST') throw new ApiError(405, `${method} is not allowed on ${path}; use POST.`, 'invalid_request_error', null, 'method_not_allowed');
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      throw new ApiError(
        400,
        `We could not parse the JSON body of your request. (${err instanceof Error ? err.message : String(err)})`,
        'invalid_request_error',
        null,
        'invalid_json',
      );
    }
    const model = (body as { model?: unknown } | null)?.model;
    if (typeof model === 'string' && model !== '' && model !== modelName) {
      throw new ApiError(
        404,
        `The model \`${model}\` does not exist. This server serves \`${modelName}\`.`,
        'invalid_request_error',
        'model',
        'model_not_found',
      );
    }
    await complete(parseRequest(body, endpoint), res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof ClientGone) return log('client went away while sending its request');
      if (!(err instanceof ApiError)) log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      sendError(res, err instanceof ApiError ? err : new ApiError(500, 'The server had an error while processing your request.', 'server_error'));
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}/v1`,
    port,
    modelName,
    engine,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await queue.idle();
      await engine.close();
    },
  };
}
