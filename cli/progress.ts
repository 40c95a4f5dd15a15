import { Presets, SingleBar } from 'cli-progress';
import type { RunEvent } from '../src/run/execute.ts';

/**
 * A progress bar on a terminal, plain lines elsewhere (CI, pipes): one line per runner and one per
 * record that did not complete, so a log shows every failure with its reason.
 */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): { onEvent: (e: RunEvent) => void; stop: () => void } {
  const tty = stream.isTTY === true && !process.env.CI;
  let bar: SingleBar | undefined;
  let done = 0;
  let total = 0;
  const line = (s: string) => {
    if (bar) bar.stop();
    stream.write(`${s}\n`);
    if (bar) bar.start(total, done);
  };
  // Hub downloads come before the first cell: one updating line per file on a terminal, else a line when each starts and ends.
  let shown = '';
  let lastDraw = 0;
  const download = (e: Extract<RunEvent, { kind: 'download' }>) => {
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    const size = e.total === undefined ? mb(e.received) : `${mb(e.received)} of ${mb(e.total)}`;
    const text = `detbench: hub ${e.repo}: ${e.file} ${size}`;
    if (tty) {
      if (e.done || Date.now() - lastDraw > 200) {
        stream.write(`\r\x1b[K${text}${e.done ? '\n' : ''}`);
        lastDraw = Date.now();
      }
    } else if (shown !== e.file || e.done) {
      stream.write(`${text}${e.done ? ' done' : ' ...'}\n`);
      shown = e.done ? '' : e.file;
    }
  };
  return {
    onEvent(e) {
      if (e.kind === 'start') {
        total = e.total;
        done = e.alreadyDone;
        if (tty) {
          bar = new SingleBar({ stream, format: 'detbench {bar} {value}/{total} cells | {runner}', hideCursor: true }, Presets.shades_classic);
          bar.start(total, done, { runner: '' });
        } else stream.write(`detbench: ${total} cells (${done} already done)\n`);
      } else if (e.kind === 'download') {
        download(e);
      } else if (e.kind === 'runner') {
        if (bar) bar.update(done, { runner: e.runnerId });
        else line(`detbench: runner ${e.runnerId}: ${e.message}`);
      } else {
        done++;
        const r = e.record;
        if (r.status !== 'completed') line(`detbench: ${r.status} ${r.id}: ${r.status === 'errored' ? `${r.error.code}: ${r.error.message}` : r.reason}`);
        if (bar) bar.update(done);
        else if (done % 25 === 0 || done === total) stream.write(`detbench: ${done}/${total}\n`);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
