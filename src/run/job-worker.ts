/**
 * One `--jobs` worker process (see `jobs.ts`): runs its slice of the suite and sends every record
 * and capture block to the parent, which writes them. It writes nothing itself.
 */
import { errorCode, errorMessage } from '../errors.ts';
import type { RunnerList } from '../runner-contract/manifest.ts';
import { runSuite } from './execute.ts';
import type { FromJob, ToJob } from './jobs.ts';

const send = (m: FromJob): Promise<void> => new Promise((resolve, reject) => process.send!(m, (err: Error | null) => (err ? reject(err) : resolve())));

/** The parent's runner list, from the module it named (the same list, loaded here). */
async function runnerList(module: string): Promise<RunnerList> {
  const exported: { RUNNERS?: RunnerList } = await import(module);
  if (!exported.RUNNERS?.manifests) throw new Error(`${module} exports no RUNNERS list`);
  return exported.RUNNERS;
}

process.once('message', (msg: ToJob) => {
  void (async () => {
    const r = msg.request;
    try {
      const pending: Promise<void>[] = [];
      await runSuite({
        suiteFile: r.suiteFile,
        runners: await runnerList(r.runners),
        outFile: '',
        profile: r.profile,
        ...(r.shard ? { shard: r.shard } : {}),
        ...(r.onlyRunners ? { onlyRunners: r.onlyRunners } : {}),
        ...(r.capture ? { capture: r.capture } : {}),
        worker: {
          job: r.job,
          shardPlanned: r.shardPlanned,
          finished: r.finished,
          references: r.references,
          capture: (id, hashes, rows) => void pending.push(send({ kind: 'capture', id, hashes, rows })),
          record: (record) => void pending.push(send({ kind: 'record', record })),
        },
        onEvent: (e) => {
          if (e.kind === 'start') pending.push(send({ kind: 'start', total: e.total, alreadyDone: e.alreadyDone }));
          else if (e.kind === 'runner') pending.push(send({ kind: 'runner', runnerId: e.runnerId, message: e.message }));
        },
      });
      await Promise.all(pending);
      await send({ kind: 'done' });
    } catch (err) {
      await send({ kind: 'error', code: errorCode(err), message: errorMessage(err) }).catch(() => {});
    }
    process.disconnect();
  })();
});
