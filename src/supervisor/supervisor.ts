// The supervisor: starts N worker threads (each a whole proxy sharing the listeners' ports with
// SO_REUSEPORT), serves the admin port for all of them, restarts a worker that dies, and
// replaces one whose event loop went silent (a filter stuck in an infinite loop blocks only
// that worker, and only until the watchdog notices; the filter then sits out for a while).

import { availableParallelism } from 'node:os';
import { createServer as createNetServer } from 'node:net';
import type { Server } from 'node:http';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { createAdminServer } from '../admin/server.ts';
import type { HostPort, SluiceConfig } from '../config/types.ts';
import { createLogger, pinoLevel } from '../log.ts';
import { stdoutDestination } from '../log-destination.ts';
import { ProxyMetrics } from '../admin/metrics.ts';
import { FilterMetricsRenderer } from '../admin/prometheus.ts';
import { connectionShare, connectionTotal, reclaimShare, resolveMaxConnections, unbackedLimit, UNLIMITED } from '../proxy/connection-limit.ts';
import { exposeSharedState, ownedSharedState } from '../proxy/shared-state.ts';
import { HEARTBEAT_INTERVAL_MS, type FromWorker, type Quarantine, type ToWorker, type WorkerData } from './messages.ts';
import { FilterQuarantines, FIRST_QUARANTINE_MS } from './quarantine.ts';
import { WorkerStateHandler, type StateRequest } from './shared-state-rpc.ts';
import { createRpcChannel, serveRpc } from './sync-rpc.ts';
import { setServingV8Flags } from './v8-flags.ts';
import { mergeFamilies, SlotMetrics } from './worker-metrics.ts';
import { newWorker, takeEarlyWorker, workerCode } from './worker-thread.ts';

const RESTART_BACKOFF_MS = [0, 1000, 2000, 5000, 10_000, 30_000];
/**
 * A starting worker starts filters that got a worker stuck lately this long after it starts,
 * once it serves: as long as a first time out, so a worker replaced because one of them looped
 * again serves a while before the next is tried.
 */
const START_LATER_MS = FIRST_QUARANTINE_MS;
/** A worker that dies sooner than this after starting counts towards restart backoff. */
const EARLY_DEATH_MS = 5000;
/**
 * A serving worker silent this long (five missed beats) no longer counts for /ready. Longer than
 * a full GC of a large heap; as long as the default filter_callback_timeout, a tenth of the
 * default watchdog_timeout (a worker stuck outside a callback waits for that one).
 */
const READY_SILENCE_MS = 1000;

export interface RunningSupervisor {
  readonly logger: Logger;
  readonly listeners: ReadonlyMap<string, HostPort>;
  /** Where the admin port listens now (a reload may move it). */
  readonly admin: HostPort | null;
  readonly workerCount: number;
  /**
   * Replaces every worker with ones running `next` (SIGHUP): they start beside the serving ones
   * (the ports are shared), and once all serve, the previous ones stop listening and finish
   * their requests in flight (drain_timeout). False, with an error logged, when the new
   * workers cannot start; the previous ones then serve on.
   */
  reload(next: SluiceConfig): Promise<boolean>;
  /**
   * Stops gracefully (SIGQUIT): every worker stops listening and finishes its requests in
   * flight (drain_timeout), then the admin port closes. close() meanwhile stops at once.
   */
  finish(): Promise<void>;
  close(): Promise<void>;
}

export function resolveWorkerCount(workers: SluiceConfig['workers']): number {
  return workers === 'auto' ? availableParallelism() : workers;
}

/** A free port for a listener configured with port 0, so every worker binds the same one. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Fails when something already holds a listener's port. Workers bind with SO_REUSEPORT, which
 * the kernel also grants to a second sluice (same user) on the same port: the two would then
 * split the traffic silently. A bind without SO_REUSEPORT fails against any holder.
 */
function ensurePortFree(name: string, address: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'is already in use (another sluice, or another program, listens there)' : `cannot be bound (${err.message})`;
      reject(Object.assign(new Error(`cannot listen: listener '${name}': ${address.host}:${address.port} ${why}`), { code: 'SLUICE_LISTEN' }));
    });
    probe.listen({ port: address.port, host: address.host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * What the watchdog does about a worker silent for `silentMs` while running `filter`'s code (if
 * any; guest-watch.ts). A worker starting, or a filter starting (a VM started again), may do
 * real work: only the watchdog's own timeout applies to them; a filter's callback gets
 * `callTimeoutMs`, and so does the start-up of a filter back from a time out for getting a
 * worker stuck (with one worker, each return of a filter whose start loops would otherwise stop
 * all traffic for the watchdog's time). Either timeout is off at 0.
 */
export function watchdogVerdict(
  silentMs: number,
  filter: RunningFilter | undefined,
  workerStarting: boolean,
  watchdogMs: number,
  callTimeoutMs: number,
): 'wait' | 'replace' | 'fail start' {
  if (watchdogMs > 0 && silentMs > watchdogMs) return workerStarting ? 'fail start' : 'replace';
  if (workerStarting || filter === undefined || (filter.starting && !filter.startLoopedBefore)) return 'wait';
  return callTimeoutMs > 0 && silentMs > callTimeoutMs ? 'replace' : 'wait';
}

/** A filter whose code a worker reports running: its index in the configuration, its name, and whether it is starting. */
export interface RunningFilter {
  index: number;
  name: string;
  starting: boolean;
  /** Starting again after a time out for getting a worker stuck (lately: quarantine.ts). */
  startLoopedBefore?: boolean;
}

class WorkerSlot {
  worker: Worker | null = null;
  startedAt = 0;
  earlyDeaths = 0;
  lastBeat = -1;
  lastBeatAt = 0;
  stopping = false;
  /** Its worker said it was ready and has not been replaced or exited since (for /ready). */
  serving = false;
  /** Some worker of this slot served: a start now is a restart. */
  everServed = false;

  /** Fails the start under way (set until the worker is ready): a worker stuck starting is not restarted. */
  failStart: ((err: Error) => void) | null = null;
  readonly index: number;

  constructor(index: number) {
    this.index = index;
  }
}

/**
 * The workers of one configuration, with what watching them takes: their pulses, the filter each
 * runs, the filters taken out of service. A reload starts a new generation beside the serving
 * one and retires the old once the new serves; filters' indexes, and so their quarantines,
 * belong to one configuration.
 */
class Generation {
  /** The configuration as loaded (what /config_dump shows). */
  readonly source: SluiceConfig;
  /** The configuration as its workers get it: listeners on port 0 resolved to the port chosen. */
  readonly config: SluiceConfig;
  readonly slots: WorkerSlot[];
  readonly heartbeat: SharedArrayBuffer;
  readonly pulse: Int32Array;
  readonly guestCalls: SharedArrayBuffer;
  readonly inFilter: Int32Array;
  readonly quarantines = new FilterQuarantines();
  readonly maxConnections: number;
  /** What a silent worker outside any filter's callback is blamed on (see `replace`). */
  readonly suspect: string;
  /** Replaced by a reload, or a reload that failed: its workers are neither restarted nor replaced. */
  retired = false;
  /** Listener addresses as bound, by name. */
  listeners = new Map<string, HostPort>();

  constructor(source: SluiceConfig, config: SluiceConfig) {
    this.source = source;
    this.config = config;
    const count = resolveWorkerCount(config.workers);
    this.slots = Array.from({ length: count }, (_, i) => new WorkerSlot(i));
    this.heartbeat = new SharedArrayBuffer(4 * count);
    this.pulse = new Int32Array(this.heartbeat);
    this.guestCalls = new SharedArrayBuffer(4 * count);
    this.inFilter = new Int32Array(this.guestCalls);
    this.maxConnections = resolveMaxConnections(config.maxConnections);
    // With no filter configured, not a filter (a synchronous flood of work, the host machine
    // stalling the process).
    this.suspect = config.filters.length > 0 ? 'a filter may be stuck in a loop' : 'its event loop is blocked';
  }

  get watchdogMs(): number {
    return this.config.watchdogTimeoutMs;
  }

  get callTimeoutMs(): number {
    return this.config.filterCallbackTimeoutMs;
  }
}

/**
 * The listeners of `config` with port 0 resolved, each checked free unless `serving` (the
 * generation a reload replaces) holds it already: a listener keeps the port it was given across
 * reloads as long as its name and configured address stay the same.
 */
async function resolveListeners(config: SluiceConfig, serving: Generation | null): Promise<SluiceConfig> {
  const listeners = await Promise.all(
    config.listeners.map(async (l) => {
      if (l.address.port === 0) {
        // Port 0 means "any free port"; all workers must agree on which one.
        const configuredBefore = serving?.source.listeners.find((b) => b.name === l.name)?.address;
        const before = serving?.config.listeners.find((b) => b.name === l.name)?.address;
        if (before !== undefined && configuredBefore?.host === l.address.host && configuredBefore.port === 0) return { ...l, address: before };
        return { ...l, address: { ...l.address, port: await freePort(l.address.host) } };
      }
      const held = serving?.config.listeners.some((b) => b.address.host === l.address.host && b.address.port === l.address.port) ?? false;
      if (!held) await ensurePortFree(l.name, l.address);
      return l;
    }),
  );
  return { ...config, listeners };
}

export async function startSupervisor(config: SluiceConfig): Promise<RunningSupervisor> {
  const logger = createLogger(config.logLevel).child({ supervisor: true });
  let current = new Generation(config, await resolveListeners(config, null));
  // Shared data, queues and filter metrics are process-wide: owned here, reached by the workers,
  // and kept across reloads (as Envoy keeps shared data across plugin reloads).
  const state = ownedSharedState(logger);
  const ownMetrics = new ProxyMetrics();
  exposeSharedState(ownMetrics, state, config.stats.tags);
  const connectionsOpen = connectionTotal();
  /** Workers of retired generations still finishing their requests. */
  const draining = new Set<Worker>();
  let closing = false;
  let reloading = false;
  let nextMetricsId = 1;
  const metricsWaiters = new Map<number, (text: string) => void>();
  // A worker's counts outlive it in its slot's series (worker-metrics.ts): the last text each
  // worker gave (every 5 s, to a scrape, and at the end of a drain) is kept until it exits.
  const slotMetrics = new SlotMetrics();
  const lastMetrics = new WeakMap<Worker, string>();
  const exited = new WeakSet<Worker>();

  const spawn = (gen: Generation, slot: WorkerSlot): Promise<Array<[string, HostPort]>> =>
    new Promise((resolve, reject) => {
      const stateChannel = createRpcChannel();
      Atomics.store(gen.inFilter, slot.index, 0);
      const connectionsHere = connectionShare();
      const data: WorkerData = {
        config: gen.config,
        index: slot.index,
        heartbeat: gen.heartbeat,
        guestCalls: gen.guestCalls,
        quarantines: outOfServiceFor(gen, slot, Date.now()),
        stateChannel,
        metricSlots: state.filterMetrics.storage.buffer,
        connections: { total: connectionsOpen, share: connectionsHere, max: gen.maxConnections },
      };
      // The first slot takes the worker `sluice run` started before loading the configuration.
      const worker = takeEarlyWorker() ?? newWorker();
      worker.postMessage({ type: 'start', data } satisfies ToWorker);
      slot.worker = worker;
      const handler = new WorkerStateHandler(state, logger.child({ worker: slot.index }), (message) => worker.postMessage(message satisfies ToWorker));
      const rpc = serveRpc(stateChannel, (request) => handler.handle(request as StateRequest));
      worker.once('exit', () => {
        exited.add(worker);
        slotMetrics.ended(slot.index, lastMetrics.get(worker) ?? '');
        rpc.stop();
        handler.releaseAll();
        // Its sockets closed with it, without their close handlers running.
        reclaimShare(connectionsOpen, connectionsHere);
      });
      slot.startedAt = Date.now();
      slot.lastBeat = Atomics.load(gen.pulse, slot.index);
      slot.lastBeatAt = Date.now();
      let ready = false;
      slot.failStart = (err) => {
        slot.failStart = null;
        if (!ready) reject(err);
      };
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          ready = true;
          slot.serving = slot.everServed = true;
          slot.failStart = null;
          slot.lastBeatAt = Date.now(); // a sign of life too: the silence is counted from here
          resolve(message.listeners);
        } else if (message.type === 'start-failed') {
          reject(Object.assign(new Error(message.message), { code: 'SLUICE_WORKER_START' }));
        } else if (message.type === 'log') {
          stdoutDestination().writeLines(message.chunk);
        } else if (message.type === 'metrics') {
          lastMetrics.set(worker, message.text);
          metricsWaiters.get(message.id)?.(message.text); // which forgets the id
        } else if (message.type === 'metrics-report') {
          lastMetrics.set(worker, message.text);
        }
      });
      worker.on('error', (err) => {
        logger.error({ worker: slot.index, err: err.message }, 'worker failed');
        if (!ready) reject(err);
      });
      worker.on('exit', (code) => {
        // Gone before it was ready, with no word why: the start must not wait for it forever.
        if (!ready) reject(Object.assign(new Error(`worker ${slot.index} exited (code ${code}) before it was ready`), { code: 'SLUICE_WORKER_START' }));
        if (slot.worker !== worker) return;
        slot.worker = null;
        slot.serving = false;
        if (closing || slot.stopping || gen.retired || !ready) return;
        logger.error({ worker: slot.index, code }, 'worker exited; restarting it');
        restart(gen, slot);
      });
    });

  /**
   * Starts the slot's worker again. A worker that dies soon after starting, again and again,
   * waits longer each time; one replaced because a filter got stuck comes back at once, since
   * that filter now sits out and will not get it stuck again (quarantine.ts).
   */
  const restart = (gen: Generation, slot: WorkerSlot, crashed = true): void => {
    if (crashed) slot.earlyDeaths = Date.now() - slot.startedAt < EARLY_DEATH_MS ? slot.earlyDeaths + 1 : 0;
    const delay = crashed ? RESTART_BACKOFF_MS[Math.min(slot.earlyDeaths, RESTART_BACKOFF_MS.length - 1)]! : 0;
    setTimeout(() => {
      if (closing || gen.retired) return;
      spawn(gen, slot).then(
        () => logger.info({ worker: slot.index }, 'worker restarted'),
        (err: Error & { filterOutOfService?: boolean }) => {
          if (closing || gen.retired) return; // a start cut short by the shutdown or a reload
          logger.error({ worker: slot.index, err: err.message }, 'worker restart failed');
          // Stuck in a filter now out of service: the next attempt will not meet it.
          restart(gen, slot, err.filterOutOfService !== true);
        },
      );
    }, delay).unref();
  };

  /** The configured filter a worker reports running (guest-watch.ts), or undefined; `starting` during its start-up. */
  const filterRunIn = (gen: Generation, slot: WorkerSlot): RunningFilter | undefined => {
    const id = Atomics.load(gen.inFilter, slot.index);
    const index = Math.abs(id) - 1;
    const filter = gen.config.filters[index];
    if (filter === undefined) return undefined;
    const starting = id < 0;
    return { index, name: filter.name, starting, startLoopedBefore: starting && gen.quarantines.struckLately(index, Date.now()) };
  };

  /**
   * The filter got `slot`'s worker stuck: it sits out for a while in every worker (the one
   * replacing this worker learns it when it starts), and its requests get its failure policy.
   */
  const takeOutOfService = (gen: Generation, slot: WorkerSlot, filter: RunningFilter, silentMs: number, message: string): Quarantine => {
    const now = Date.now();
    const q = gen.quarantines.strike(filter.index, now, `stuck ${filter.starting ? 'starting' : 'in a callback'} for ${silentMs} ms`);
    logger.error({ worker: slot.index, filter: filter.name, silent_ms: silentMs, quarantined_ms: q.until - now }, message);
    for (const other of gen.slots) if (other !== slot) other.worker?.postMessage({ type: 'quarantine', ...staggered(gen, q, other) } satisfies ToWorker);
    return q;
  };

  // A filter comes back in worker 0 first and in the others a watchdog's time later: if its
  // start-up loops again, one worker alone gets stuck, and the strike (a longer time out)
  // reaches the others before their turn.
  const staggered = (gen: Generation, q: Quarantine, slot: WorkerSlot): Quarantine =>
    slot.index === 0 ? q : { ...q, until: q.until + Math.max(gen.watchdogMs, gen.callTimeoutMs) + 1000 };

  /**
   * The filters a worker starting now in `slot` keeps out (quarantine.ts, keptOut): a chain of
   * filters whose start-up loops is then got through once, not again as each time out ends.
   */
  const outOfServiceFor = (gen: Generation, slot: WorkerSlot, now: number): Quarantine[] =>
    gen.quarantines.keptOut(now, START_LATER_MS).map((q) => staggered(gen, q, slot));

  const replace = (gen: Generation, slot: WorkerSlot, silentMs: number): void => {
    const filter = filterRunIn(gen, slot);
    if (filter === undefined) {
      logger.error({ worker: slot.index, silent_ms: silentMs }, `worker unresponsive (${gen.suspect}); replacing it`);
    } else {
      const where = filter.starting ? 'while starting again' : 'in a callback';
      takeOutOfService(gen, slot, filter, silentMs, `filter stuck ${where} (a loop?); replacing its worker and taking the filter out of service`);
    }
    const stuck = slot.worker!;
    slot.worker = null;
    slot.serving = false;
    void stuck.terminate();
    restart(gen, slot, filter === undefined);
  };

  /**
   * How long the slot's worker has been silent at `now`: 0 when its pulse moved since last read
   * (by the watchdog or /ready, whichever looks first), else the time since it was seen to move.
   */
  const silenceOf = (gen: Generation, slot: WorkerSlot, now: number): number => {
    const beat = Atomics.load(gen.pulse, slot.index);
    if (beat === slot.lastBeat) return now - slot.lastBeatAt;
    slot.lastBeat = beat;
    slot.lastBeatAt = now;
    return 0;
  };

  /**
   * Whether the slot's worker beat within READY_SILENCE_MS of `now`: one silent longer (a loop
   * the watchdog has yet to act on) answers nobody, so /ready stops counting it at once rather
   * than after watchdog_timeout. Reads the pulse itself: the watchdog may be off, or sample late.
   */
  const responsive = (gen: Generation, slot: WorkerSlot, now: number): boolean => silenceOf(gen, slot, now) < READY_SILENCE_MS;

  /** One look at a generation's workers: replace the stuck, fail the start of one stuck starting. */
  const watch = (gen: Generation): void => {
    const now = Date.now();
    for (const slot of gen.slots) {
      if (slot.worker === null || slot.stopping) continue;
      const silentMs = silenceOf(gen, slot, now);
      if (silentMs === 0) continue;
      const filter = filterRunIn(gen, slot);
      const verdict = watchdogVerdict(silentMs, filter, slot.failStart !== null, gen.watchdogMs, gen.callTimeoutMs);
      if (verdict === 'replace') {
        replace(gen, slot, silentMs);
      } else if (verdict === 'fail start' && slot.failStart !== null) {
        // Stuck while starting (a filter looping in on_vm_start or on_configure): the start
        // fails, naming the cause. A restart's filter also sits out (say, an on_configure
        // looping on shared data), or every later attempt would meet it again.
        const outOfService = slot.everServed && filter !== undefined;
        if (outOfService) takeOutOfService(gen, slot, filter, silentMs, 'filter stuck while its worker restarted; taking it out of service');
        const stuck = slot.worker;
        slot.worker = null;
        void stuck.terminate();
        const cause = filter === undefined ? `${gen.suspect} while starting` : `filter '${filter.name}' is stuck in a loop while starting`;
        slot.failStart(
          Object.assign(new Error(`worker ${slot.index} did not finish starting: silent for ${silentMs} ms (${cause})`), { code: 'SLUICE_WORKER_START', filterOutOfService: outOfService }),
        );
      }
    }
  };

  /** Workers a watchdog terminated while they drained (their exit is no finished drain). */
  const cutOff = new WeakSet<Worker>();

  /**
   * A retired generation's worker silent past its timeouts is stuck: until drain_timeout it
   * would keep the connections the kernel still queues on its socket waiting. It is terminated,
   * not replaced.
   */
  const watchRetired = (gen: Generation): void => {
    const now = Date.now();
    for (const slot of gen.slots) {
      const worker = slot.worker;
      if (worker === null) continue;
      const silentMs = silenceOf(gen, slot, now);
      if (silentMs === 0) continue;
      const filter = filterRunIn(gen, slot);
      if (watchdogVerdict(silentMs, filter, false, gen.watchdogMs, gen.callTimeoutMs) !== 'replace') continue;
      logger.error({ worker: slot.index, filter: filter?.name, silent_ms: silentMs }, 'a replaced worker got stuck while finishing its requests; terminating it');
      cutOff.add(worker);
      void worker.terminate();
    }
  };

  // The watchdog: a worker whose pulse has not moved for the timeout is terminated (V8 stops
  // even a guest stuck in a wasm loop) and started again; sooner when the worker is silent
  // inside a filter's callback, which is then taken out of service (quarantine.ts). It watches
  // the serving generation, one a reload is starting (`starting`), and the retired ones still
  // draining (`retiring`), whose stuck workers it only terminates.
  let starting: Generation | null = null;
  const retiring = new Set<Generation>();
  let watchdog: NodeJS.Timeout | null = null;
  const startWatchdog = (): void => {
    if (watchdog !== null) clearInterval(watchdog);
    const gens = [current, starting, ...retiring].filter((g): g is Generation => g !== null);
    const shortest = Math.min(...gens.flatMap((g) => [g.watchdogMs, g.callTimeoutMs]).filter((ms) => ms > 0));
    watchdog = Number.isFinite(shortest)
      ? setInterval(() => {
          for (const gen of [current, starting]) if (gen !== null && !gen.retired) watch(gen);
          for (const gen of retiring) watchRetired(gen);
        }, Math.max(HEARTBEAT_INTERVAL_MS, Math.min(1000, shortest / 4)))
      : null;
    watchdog?.unref();
  };
  startWatchdog();

  /** Starts every worker of `gen`; throws when one cannot start. */
  const startGeneration = async (gen: Generation): Promise<void> => {
    const started = await Promise.all(gen.slots.map((slot) => spawn(gen, slot)));
    gen.listeners = new Map(started[0]!);
  };

  try {
    await startGeneration(current);
  } catch (err) {
    closing = true;
    if (watchdog !== null) clearInterval(watchdog);
    await Promise.all(current.slots.map((s) => s.worker?.terminate()));
    throw err;
  }
  // Every worker serves: from here on TurboFan optimizes request code (v8-flags.ts).
  setServingV8Flags();

  const metrics = {
    /**
     * The serving and the retiring workers' texts, summed by slot with what the slot's ended
     * workers counted; then the process-wide families (filter metrics, shared state). A reload's
     * workers still starting are left out (a start may take a while): what they count shows
     * once they serve, or once they exit if the reload fails.
     */
    async render(): Promise<string> {
      const live = [current, ...retiring].flatMap((gen) => gen.slots.flatMap((slot) => (slot.worker === null ? [] : [{ index: slot.index, worker: slot.worker }])));
      const texts = await Promise.all(live.map(({ worker }) => workerMetrics(worker)));
      const bySlot = new Map<number, string[]>();
      for (const index of slotMetrics.slots()) bySlot.set(index, []);
      live.forEach(({ index, worker }, i) => {
        let list = bySlot.get(index);
        if (list === undefined) bySlot.set(index, (list = []));
        // One that exited meanwhile is counted among the ended already.
        if (!exited.has(worker)) list.push(texts[i]!);
      });
      const slots = [...bySlot].sort(([a], [b]) => a - b).map(([index, list]) => slotMetrics.render(index, list));
      return mergeFamilies([...slots, ownMetrics.render()]);
    },
  };
  /**
   * A worker's metrics text; the last it gave when it does not answer within 2 s (stuck, say).
   * One that exits meanwhile answers '' at once: its exit has counted it among the ended.
   */
  const workerMetrics = (worker: Worker): Promise<string> =>
    new Promise<string>((resolve) => {
      if (exited.has(worker)) return resolve('');
      const id = nextMetricsId++;
      const answer = (text: string): void => {
        clearTimeout(timer);
        metricsWaiters.delete(id);
        worker.off('exit', onExit);
        resolve(text);
      };
      const onExit = (): void => answer('');
      const timer = setTimeout(() => answer(lastMetrics.get(worker) ?? ''), 2000);
      metricsWaiters.set(id, answer);
      worker.once('exit', onExit);
      worker.postMessage({ type: 'metrics', id } satisfies ToWorker);
    });
  // Ready while some worker serves and is responsive (not while every one is being replaced or
  // silent) and until closing.
  const adminState = {
    get ready(): boolean {
      const now = Date.now();
      return !closing && current.slots.some((slot) => slot.serving && responsive(current, slot, now));
    },
  };
  /** An admin port serving every generation (a reload may move it: the new one opens first). */
  const openAdmin = async (address: HostPort): Promise<{ server: Server; bound: HostPort }> => {
    const server = createAdminServer(() => current.source, metrics, adminState);
    const bound = await new Promise<HostPort>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        const a = server.address() as { address: string; port: number };
        resolve({ host: a.address, port: a.port });
      });
    });
    return { server, bound };
  };
  const closeAdmin = (server: Server | null): void => {
    server?.close();
    server?.closeAllConnections();
  };
  let adminServer: Server | null = null;
  let admin: HostPort | null = null;
  if (config.admin !== undefined) ({ server: adminServer, bound: admin } = await openAdmin(config.admin.address));
  const from = workerCode();
  /** The lines that say where a generation listens, and with what. */
  const announce = (gen: Generation, message: string): void => {
    const unbacked = unbackedLimit(gen.config.maxConnections);
    if (unbacked !== null) {
      logger.warn(
        { max_connections: gen.maxConnections, open_file_limit: unbacked.openFileLimit, supported: unbacked.supported },
        'max_connections is more than the open-file limit supports: past about that many client connections, accepting and upstream requests fail (raise the limit, e.g. ulimit -n)',
      );
    }
    const max = gen.maxConnections >= UNLIMITED ? 'unlimited' : gen.maxConnections;
    for (const [name, addr] of gen.listeners) logger.info({ listener: name, address: `${addr.host}:${addr.port}`, workers: gen.slots.length, max_connections: max, from }, message);
  };
  announce(current, 'listening');
  if (admin !== null) logger.info({ address: `${admin.host}:${admin.port}` }, 'admin listening');

  /** A retired generation's workers stop listening and finish their requests, then exit. */
  const drain = (gen: Generation): void => {
    const timeoutMs = gen.config.drainTimeoutMs;
    retiring.add(gen);
    for (const slot of gen.slots) {
      const worker = slot.worker;
      if (worker === null) continue;
      slot.stopping = true;
      draining.add(worker);
      // Its event loop never got to the end of the drain (the watchdog is off, say).
      const force = setTimeout(() => {
        logger.warn({ worker: slot.index, drain_timeout_ms: timeoutMs }, 'a replaced worker did not finish within drain_timeout and 5 s more; terminating it');
        cutOff.add(worker);
        void worker.terminate();
      }, timeoutMs + 5000);
      force.unref();
      worker.once('exit', () => {
        clearTimeout(force);
        draining.delete(worker);
        if (gen.slots.every((s) => s.worker === null)) retiring.delete(gen);
        if (!closing && !cutOff.has(worker)) logger.info({ worker: slot.index, draining_left: draining.size }, 'a replaced worker finished its requests and exited');
      });
      worker.postMessage({ type: 'drain', timeoutMs } satisfies ToWorker);
    }
    if (gen.slots.every((s) => s.worker === null)) retiring.delete(gen);
  };

  return {
    logger,
    get listeners() {
      return current.listeners;
    },
    get admin() {
      return admin;
    },
    get workerCount() {
      return current.slots.length;
    },
    async reload(next: SluiceConfig): Promise<boolean> {
      if (closing) return false;
      if (reloading) {
        logger.warn('reload asked for while one is under way: ignored (ask again once it is done)');
        return false;
      }
      reloading = true;
      const started = Date.now();
      try {
        let gen: Generation;
        try {
          gen = new Generation(next, await resolveListeners(next, current));
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'reload failed; still serving with the previous configuration');
          return false;
        }
        // A moved admin port opens before anything else changes: if its address is taken, the
        // reload fails with the old one still open.
        let movedAdmin: { server: Server | null; bound: HostPort | null } | null = null;
        if (JSON.stringify(next.admin) !== JSON.stringify(current.source.admin)) {
          try {
            movedAdmin = next.admin === undefined ? { server: null, bound: null } : await openAdmin(next.admin.address);
          } catch (err) {
            logger.error({ err: (err as Error).message }, 'reload failed: the new admin address cannot be opened; still serving with the previous configuration');
            return false;
          }
          if (closing) {
            // Stopped while it opened: nothing would close it.
            closeAdmin(movedAdmin.server);
            return false;
          }
        }
        starting = gen;
        startWatchdog();
        try {
          await startGeneration(gen);
        } catch (err) {
          // Those of its workers that already listen may hold connections: they finish them.
          gen.retired = true;
          drain(gen);
          closeAdmin(movedAdmin?.server ?? null);
          logger.error({ err: (err as Error).message }, 'reload failed; still serving with the previous configuration');
          return false;
        } finally {
          starting = null;
        }
        const old = current;
        current = gen;
        old.retired = true;
        drain(old);
        startWatchdog();
        if (movedAdmin !== null) {
          closeAdmin(adminServer);
          ({ server: adminServer, bound: admin } = movedAdmin);
          logger.info({ address: admin === null ? null : `${admin.host}:${admin.port}` }, admin === null ? 'reloaded: admin port closed' : 'reloaded: admin listening');
        }
        logger.level = pinoLevel(next.logLevel);
        // Filter metrics are rendered here, with the new file's tag rules.
        ownMetrics.filterMetrics(new FilterMetricsRenderer(state.filterMetrics, next.stats.tags));
        announce(gen, 'reloaded: listening');
        logger.info({ workers: gen.slots.length, retired_workers: old.slots.length, drain_timeout_ms: old.config.drainTimeoutMs, took_ms: Date.now() - started }, 'reloaded: the previous workers finish their requests in flight');
        return true;
      } finally {
        reloading = false;
      }
    },
    async finish() {
      if (closing) return;
      closing = true; // no restart, no reload, /ready answers 503
      if (starting !== null) for (const slot of starting.slots) void slot.worker?.terminate();
      drain(current);
      startWatchdog(); // a worker stuck while it finishes is terminated after its timeout
      while (draining.size > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      if (watchdog !== null) clearInterval(watchdog);
      closeAdmin(adminServer);
    },
    async close() {
      closing = true;
      if (watchdog !== null) clearInterval(watchdog);
      closeAdmin(adminServer);
      for (const worker of draining) void worker.terminate();
      // A reload's workers still starting: their start fails, and the reload with it.
      if (starting !== null) for (const slot of starting.slots) void slot.worker?.terminate();
      await Promise.all(
        current.slots.map(
          (slot) =>
            new Promise<void>((resolve) => {
              const worker = slot.worker;
              if (worker === null) return resolve();
              slot.stopping = true;
              const force = setTimeout(() => {
                // Its event loop never got to the stop: most likely a filter is stuck.
                logger.warn({ worker: slot.index, filter: filterRunIn(current, slot)?.name }, 'worker did not stop within 5 s; terminating it');
                void worker.terminate();
              }, 5000);
              worker.once('exit', () => {
                clearTimeout(force);
                resolve();
              });
              worker.postMessage({ type: 'stop' } satisfies ToWorker);
            }),
        ),
      );
    },
  };
}
