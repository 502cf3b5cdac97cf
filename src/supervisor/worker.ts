// A worker thread: one whole proxy (listeners with SO_REUSEPORT, VMs, pools) started from the
// configuration the supervisor validated, which arrives in its first message: the thread may be
// started, and its modules loaded, before the configuration is read (worker-thread.ts). It
// beats a heartbeat from its event loop, so a filter stuck in a loop shows up as silence, and
// answers metrics requests for the admin port (and reports its metrics every 5 s unasked).

import { parentPort } from 'node:worker_threads';
import { reportGuestCalls } from '../abi/guest-watch.ts';
import { createLogger } from '../log.ts';
import { forwardingDestination } from '../log-destination.ts';
import { enableBodyGcPacing, minorGcFunction } from '../proxy/body-gc.ts';
import { ConnectionLimit } from '../proxy/connection-limit.ts';
import { OldGenerationPacer } from '../proxy/old-generation-gc.ts';
import { privateGc } from '../proxy/private-gc.ts';
import { checkFilters, startSluice, type RunningSluice } from '../proxy/sluice.ts';
import type { SluiceConfig } from '../config/types.ts';
import { remoteSharedState, type RemoteSharedState } from './remote-shared-state.ts';
import { SyncRpcClient } from './sync-rpc.ts';
import { HEARTBEAT_INTERVAL_MS, METRICS_REPORT_INTERVAL_MS, type FromWorker, type ToWorker, type WorkerData } from './messages.ts';

const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

// Messages that arrive while the proxy is still starting wait for it (a `stop` then stops it
// as soon as it is up).
let running: { sluice: RunningSluice; sharedState: RemoteSharedState; beat: NodeJS.Timeout } | null = null;
const waiting: ToWorker[] = [];

port.on('message', (message: ToWorker) => {
  if (message.type === 'start') void start(message.data);
  else if (message.type === 'check') void check(message.config, message.guestCalls);
  else if (running === null) waiting.push(message);
  else handle(message);
});

async function start(data: WorkerData): Promise<void> {
  const pulse = new Int32Array(data.heartbeat);
  const beat = setInterval(() => Atomics.add(pulse, data.index, 1), HEARTBEAT_INTERVAL_MS);
  try {
    const logger = createLogger(data.config.logLevel, forwardingDestination((chunk) => post({ type: 'log', chunk }))).child({ worker: data.index });
    // This thread is the proxy's alone: it may ask V8 for scavenges while bodies stream
    // (body-gc.ts) and for a full GC when promoted garbage piles up (old-generation-gc.ts).
    const gc = privateGc();
    if (gc === null) {
      logger.warn('V8 gave no gc function: streamed bodies and promoted garbage wait for V8 to collect them');
    } else {
      enableBodyGcPacing(minorGcFunction(gc));
      new OldGenerationPacer(() => void gc({ type: 'major', execution: 'async' })).start();
    }
    const sharedState = remoteSharedState(new SyncRpcClient(data.stateChannel), data.metricSlots, logger);
    // Before any VM exists: each reports here while its code runs, for the supervisor to see.
    reportGuestCalls(data.guestCalls, data.index);
    const { total, share, max } = data.connections;
    const connectionLimit = new ConnectionLimit(max, total, share);
    const sluice = await startSluice(data.config, { admin: false, reusePort: true, logger, sharedState, outOfService: data.quarantines, connectionLimit });
    running = { sluice, sharedState, beat };
    post({ type: 'ready', listeners: [...sluice.listeners] });
    // A worker that crashes or gets stuck cannot be asked at the end: the supervisor keeps this.
    setInterval(() => post({ type: 'metrics-report', text: sluice.metrics.render() }), METRICS_REPORT_INTERVAL_MS).unref();
  } catch (err) {
    clearInterval(beat);
    post({ type: 'start-failed', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
  for (const message of waiting.splice(0)) handle(message);
}

/** Starts and stops the configuration's filters (`sluice validate`), then exits. */
async function check(config: SluiceConfig, guestCalls: SharedArrayBuffer): Promise<void> {
  // The filters' own messages at warn and above come along: they often say why a filter
  // rejected its configuration.
  const destination = forwardingDestination((chunk) => post({ type: 'log', chunk }));
  const logger = createLogger('warn', destination);
  reportGuestCalls(guestCalls, 0);
  let error: string | null = null;
  try {
    await checkFilters(config, logger);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  destination.flushSync(); // the lines before the answer
  post({ type: 'checked', error });
  process.exit(0);
}

function handle(message: ToWorker): void {
  const { sluice, sharedState, beat } = running!;
  if (message.type === 'queue-ready') {
    sharedState.queueReady(message);
  } else if (message.type === 'quarantine') {
    sluice.plugins.quarantine(message.filter, message.until, message.reason);
  } else if (message.type === 'metrics') {
    post({ type: 'metrics', id: message.id, text: sluice.metrics.render() });
  } else if (message.type === 'stop') {
    clearInterval(beat);
    void sluice.close().finally(() => process.exit(0));
  } else if (message.type === 'drain') {
    // Replaced by a reload (new connections go to the new workers), or a graceful stop: the
    // requests in flight finish here. The heartbeat goes on, so a filter stuck meanwhile still shows as silence.
    void sluice
      .drain(message.timeoutMs)
      .then(() => sluice.close())
      .finally(() => {
        try {
          post({ type: 'metrics-report', text: sluice.metrics.render() });
        } finally {
          process.exit(0);
        }
      });
  }
}
