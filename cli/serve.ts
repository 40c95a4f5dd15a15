import { type Command, InvalidArgumentError, Option } from 'commander';
import { RUNNERS } from '../runners/index.ts';
import { DetbenchError, errorMessage } from '../src/errors.ts';
import { serveRunnerTypes } from '../src/serve/engine.ts';
import type { ServeHandle } from '../src/serve/server.ts';

const positiveInt = (name: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

interface ServeFlags {
  model: string;
  onnxFile?: string;
  modelName?: string;
  host: string;
  port: number;
  runner: string;
  threads: number;
  batching: 'continuous' | 'static' | 'off';
  maxBatch: number;
  batchWindowMs: number;
  quiet: boolean;
}

/** `detbench serve`: an OpenAI-compatible HTTP server for a local model, with continuous or static batching. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a local model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/models)')
    .requiredOption('--model <dir>', 'model folder (Hugging Face / transformers.js layout)')
    .option('--onnx-file <file>', "ONNX file inside the model folder (default: the folder's own, as detbench run picks it)")
    .option('--model-name <id>', "model id clients send (default: the folder's name)")
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', positiveInt('--port', 0), 8411)
    .addOption(new Option('--runner <type>', 'local runner that computes').choices(serveRunnerTypes(RUNNERS)).default('node-cpu'))
    .option('--threads <n>', 'onnxruntime intra-op threads (0: let onnxruntime choose)', positiveInt('--threads', 0), 1)
    .addOption(
      new Option(
        '--batching <mode>',
        'continuous: requests join and leave the running batch between steps; static: one batch at a time, decoded to the end; off: one request at a time',
      )
        .choices(['continuous', 'static', 'off'])
        .default('continuous'),
    )
    .option('--max-batch <n>', 'largest batch', positiveInt('--max-batch', 1), 8)
    .option('--batch-window-ms <ms>', 'how long a request that finds nothing running waits for others to join it', positiveInt('--batch-window-ms', 0), 10)
    .option('--quiet', 'no log line per batch', false)
    .action(async (flags: ServeFlags) => {
      const { startServe } = await import('../src/serve/server.ts');
      const batching = flags.batching === 'off' ? null : { mode: flags.batching, maxBatch: flags.maxBatch, windowMs: flags.batchWindowMs };
      let handle: ServeHandle;
      try {
        handle = await startServe({
          modelDir: flags.model,
          runners: RUNNERS,
          ...(flags.onnxFile ? { onnxFile: flags.onnxFile } : {}),
          ...(flags.modelName ? { modelName: flags.modelName } : {}),
          host: flags.host,
          port: flags.port,
          runner: flags.runner,
          runnerOptions: { intra_op_threads: flags.threads },
          batching,
          log: flags.quiet ? () => {} : (line) => process.stderr.write(`detbench serve: ${line}\n`),
        });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          throw new DetbenchError('SERVE_LISTEN_FAILED', `cannot listen on ${flags.host}:${flags.port}: ${errorMessage(err)}`, { cause: err });
        }
        throw err;
      }
      const mode = batching ? `${batching.mode} batching (max ${batching.maxBatch}, window ${batching.windowMs} ms)` : 'batching off';
      process.stderr.write(
        `detbench serve: ${handle.modelName} on ${handle.url} with ${flags.runner} (${flags.threads} thread${flags.threads === 1 ? '' : 's'}), ${mode}, system_fingerprint ${handle.engine.systemFingerprint}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stderr.write('detbench serve: shutting down\n');
          handle.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
