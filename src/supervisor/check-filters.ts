// `sluice validate`'s second half: every filter started and stopped as `sluice run` starts
// them, so a module that does not compile, an ABI the host does not speak or a filter that
// rejects its configuration fails validation rather than the deployment. In a worker thread,
// not this one: a filter whose start loops is stopped there after watchdog_timeout (V8
// terminates a wasm loop), as the supervisor stops a worker stuck starting.

import { filterIssue } from '../config/errors.ts';
import type { SluiceConfig } from '../config/types.ts';
import type { FromWorker, ToWorker } from './messages.ts';
import { newWorker } from './worker-thread.ts';

export interface FilterCheck {
  /** Why the filters cannot start, as `sluice run` would say it; null when they all started. */
  problem: string | null;
  /** The filters' own messages at warn and above, `filter (level): message`: often the why. */
  messages: string[];
}

const LEVEL_NAMES: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'critical' };

/** The filters' messages among a worker's log lines (the host's own lines are left out). */
function guestMessages(chunk: string): string[] {
  const out: string[] = [];
  for (const line of chunk.split('\n')) {
    if (line === '') continue;
    let record: { level?: number; wasm?: unknown; plugin?: string; module?: string; msg?: string };
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (record.wasm === undefined || (record.level ?? 0) < 40) continue;
    out.push(`${record.plugin ?? record.module} (${LEVEL_NAMES[record.level!] ?? record.level}): ${record.msg}`);
  }
  return out;
}

export function checkFilters(config: SluiceConfig): Promise<FilterCheck> {
  const messages: string[] = [];
  const guestCalls = new SharedArrayBuffer(4);
  const worker = newWorker();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (problem: string | null): void => {
      clearTimeout(timer);
      worker.removeAllListeners('exit');
      resolve({ problem, messages });
    };
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'log') messages.push(...guestMessages(message.chunk));
      else if (message.type === 'checked') settle(message.error);
    });
    worker.on('error', (err) => settle(`the filters could not be started: ${err.message}`));
    worker.on('exit', (code) => settle(`the filters could not be started: the check exited (code ${code}) without an answer`));
    const timeoutMs = config.watchdogTimeoutMs;
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        // The filter whose code runs: index + 1, negative while it starts (guest-watch.ts).
        const filter = config.filters[Math.abs(Atomics.load(new Int32Array(guestCalls), 0)) - 1];
        void worker.terminate();
        const what = filter === undefined ? 'the filters did not finish starting' : `filter '${filter.name}' did not finish starting`;
        const problem = `${what} within watchdog_timeout (${timeoutMs} ms): stuck in a loop?`;
        settle(filter === undefined ? problem : filterIssue(config.filters, filter.name, problem));
      }, timeoutMs);
    }
    worker.postMessage({ type: 'check', config, guestCalls } satisfies ToWorker);
  });
}
