// The live plugins of one configuration. Filters that name the same module, vm_id, VM
// configuration and WASI environment share one VM (one root context each, as in Envoy). When a
// VM fails, the next request for any of its plugins gets a fresh VM with every plugin started
// again; repeated quick failures back off exponentially so a crash-looping filter costs little.

import type { Logger } from 'pino';
import { loadModuleFile, type CompiledModule } from './module.ts';
import { Plugin, type PluginConfig, type PluginServices } from './plugin.ts';
import { PluginStartError } from './errors.ts';
import { STREAM_CALLBACK_NAMES, StreamCallback } from './exports.ts';
import { buildImports } from './imports.ts';
import { ThrottledWarning } from './throttled-warning.ts';
import type { LogLevel } from './types.ts';
import { Vm } from './vm.ts';

export interface PluginSpec extends PluginConfig {
  readonly modulePath: string;
  /** "KEY=VALUE" entries for WASI environ_get. */
  readonly environ: readonly string[];
}

/** A filter (by its index in the configuration) out of service until `until` (epoch ms). */
export interface FilterQuarantine {
  readonly filter: number;
  readonly until: number;
  readonly reason: string;
}

const PINO_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/**
 * A filter's `log_level` below the proxy's: its logger gets that level, or pino would drop the
 * messages the filter was configured to log (a child inherits its parent's level).
 */
function verboserLevel(parent: Logger, level: LogLevel): { level: string } | undefined {
  const name = PINO_LEVEL_NAMES[level];
  return parent.levels.values[name]! < parent.levelVal ? { level: name } : undefined;
}

/** A VM lifetime shorter than this counts as a quick failure for crash-loop backoff. */
const QUICK_FAILURE_MS = 1000;
const BACKOFF_AFTER_QUICK_FAILURES = 3;
const MAX_BACKOFF_MS = 30_000;

class VmGroup {
  readonly module: CompiledModule;
  /** Its first filter's index in the configuration: what its VMs report (negated) while they start (guest-watch.ts). */
  readonly index: number;
  readonly specs: PluginSpec[] = [];
  vm: Vm | null = null;
  plugins = new Map<string, Plugin>();
  startedAt = 0;
  quickFailures = 0;
  retryAt = 0;

  constructor(module: CompiledModule, index: number) {
    this.module = module;
    this.index = index;
  }
}

const RESPONSE_CALLBACKS = [
  STREAM_CALLBACK_NAMES[StreamCallback.RESPONSE_HEADERS],
  STREAM_CALLBACK_NAMES[StreamCallback.RESPONSE_BODY],
  STREAM_CALLBACK_NAMES[StreamCallback.RESPONSE_TRAILERS],
];

/**
 * A filter's place in the set, resolved once per route rather than by name on every request:
 * its live plugin comes from a cache that holds while the plugin's VM is the group's and alive.
 */
export class FilterHandle {
  readonly name: string;
  readonly failOpen: boolean;
  /** Whether the module exports proxy_on_request_body / proxy_on_response_body. */
  readonly requestBody: boolean;
  readonly responseBody: boolean;
  /**
   * Whether the module exports any response callback (headers, body, trailers). A filter without
   * one gets no stage in the response pipeline: it could never see or hold a response frame.
   */
  readonly responseCallbacks: boolean;
  /** Logged (at most once per interval) when a request meets the filter without a VM to run. */
  readonly unavailableWarning: ThrottledWarning;
  /** Logged (at most once per interval) when a stream callback returns a value that is no action. */
  readonly unknownActionWarning = new ThrottledWarning(
    'filter callback returned a value that is no action; the stream pauses (as in Envoy, which takes it for its most stopping action) until the filter continues it',
  );
  readonly #set: PluginSet;
  readonly #group: VmGroup | undefined;
  #plugin: Plugin | null = null;

  constructor(set: PluginSet, name: string, group: VmGroup | undefined) {
    this.#set = set;
    this.name = name;
    this.#group = group;
    this.failOpen = group?.specs.find((s) => s.name === name)?.failOpen ?? false;
    this.unavailableWarning = new ThrottledWarning(
      `filter unavailable (its VM failed and is backed off, quarantined or could not be replaced); ${this.failOpen ? 'skipping it' : 'failing the request with 503'}`,
    );
    // Unknown without a module (an unknown name): assume yes, the slot decides at call time.
    const exportNames = group?.module.exportNames;
    this.requestBody = exportNames?.has('proxy_on_request_body') ?? true;
    this.responseBody = exportNames?.has('proxy_on_response_body') ?? true;
    this.responseCallbacks = exportNames === undefined || RESPONSE_CALLBACKS.some((name) => exportNames.has(name));
  }

  /** The live plugin, as PluginSet.get gives it (a failed VM is replaced first). */
  plugin(): Plugin | null {
    const cached = this.#plugin;
    if (cached !== null && cached.vm === this.#group!.vm && cached.vm.failure === null) return cached;
    this.#plugin = this.#set.get(this.name);
    return this.#plugin;
  }
}

export class PluginSet {
  readonly #groups: VmGroup[] = [];
  readonly #specs: readonly PluginSpec[];
  readonly #groupOf = new Map<string, VmGroup>();
  readonly #handles = new Map<string, FilterHandle>();
  readonly #services: PluginServices;
  readonly #logger: Logger;
  #stopped = false;

  /** Compiles every module and groups plugins by VM; throws PluginStartError naming the filter. */
  constructor(specs: readonly PluginSpec[], services: PluginServices, logger: Logger) {
    this.#services = services;
    this.#logger = logger;
    this.#specs = specs;
    const byKey = new Map<string, VmGroup>();
    for (const [index, spec] of specs.entries()) {
      let module: CompiledModule;
      try {
        module = loadModuleFile(spec.modulePath);
      } catch (err) {
        throw new PluginStartError(spec.name, (err as Error).message);
      }
      // The WASI environment belongs to the VM, so filters that differ in it never share one.
      const key = JSON.stringify([module.sha256, spec.vmId, spec.vmConfiguration.toString('latin1'), spec.environ]);
      let group = byKey.get(key);
      if (group === undefined) {
        group = new VmGroup(module, index);
        byKey.set(key, group);
        this.#groups.push(group);
      }
      group.specs.push(spec);
      this.#groupOf.set(spec.name, group);
    }
  }

  /**
   * Starts every VM and plugin; throws PluginStartError naming the filter that failed. VMs of
   * filters `outOfService` names (a worker replacing one a filter got stuck) are not started:
   * their start-up may be what got stuck.
   */
  start(outOfService: readonly FilterQuarantine[] = []): void {
    for (const q of outOfService) this.quarantine(q.filter, q.until, q.reason);
    for (const group of this.#groups) if (group.retryAt <= Date.now()) this.#startGroup(group);
  }

  /** The handle of a filter by name (one per name; an unknown name never has a plugin). */
  handle(name: string): FilterHandle {
    let handle = this.#handles.get(name);
    if (handle === undefined) {
      handle = new FilterHandle(this, name, this.#groupOf.get(name));
      this.#handles.set(name, handle);
    }
    return handle;
  }

  /** The live plugin for a filter, replacing a failed VM first; null while none can run. */
  get(name: string): Plugin | null {
    const group = this.#groupOf.get(name);
    if (group === undefined) return null;
    if (group.vm !== null && group.vm.failure === null) return group.plugins.get(name) ?? null;
    if (Date.now() < group.retryAt) return null;
    try {
      this.#replace(group);
    } catch (err) {
      this.#logger.error({ err: (err as Error).message, filter: name }, 'could not replace a failed filter VM');
      this.#noteFailure(group);
      return null;
    }
    return group.plugins.get(name) ?? null;
  }

  /**
   * Takes the VM of the filter at `index` (and every filter sharing it) out of service until
   * `until` (epoch ms): its VM fails now, so streams it holds apply their failure policy, and
   * requests meet the policy without running it. Afterwards a fresh VM starts, as after a trap.
   */
  quarantine(index: number, until: number, reason: string): void {
    const spec = this.#specs[index];
    const group = spec === undefined ? undefined : this.#groupOf.get(spec.name);
    if (group === undefined || this.#stopped) return;
    group.retryAt = Math.max(group.retryAt, until);
    this.#logger.warn(
      { filter: spec!.name, vm_filters: group.specs.map((s) => s.name), reason, until: new Date(group.retryAt).toISOString() },
      'filter out of service: its requests get its failure policy until then',
    );
    // Back by itself when the time is up, not at the next request: a filter working from ticks
    // or queues may get none.
    setTimeout(() => this.#revive(group, true), group.retryAt - Date.now()).unref();
    const vm = group.vm;
    if (vm === null) return;
    vm.fail(reason, true);
    // Let its memory (up to 1 GiB) go now rather than when the quarantine ends: only streams
    // still finishing on it and the handles' caches (until their next request) keep it.
    for (const plugin of group.plugins.values()) plugin.stop();
    group.vm = null;
    group.plugins = new Map();
  }

  /**
   * A VM failed (not quarantined): a fresh one replaces it as soon as its backoff allows, without
   * waiting for a request, as after a quarantine. A filter working from ticks or queues may get
   * none, and its VM would stay dead.
   */
  #failed(group: VmGroup, vm: Vm): void {
    if (this.#stopped || group.vm !== vm) return;
    setTimeout(() => this.#revive(group, false), Math.max(0, group.retryAt - Date.now())).unref();
  }

  /**
   * A fresh VM for a group whose VM failed or was quarantined, once its time is up (a later
   * quarantine or backoff may have extended it). Nothing to do if a request replaced it first.
   */
  #revive(group: VmGroup, afterQuarantine: boolean): void {
    if (this.#stopped || (group.vm !== null && group.vm.failure === null)) return;
    const early = group.retryAt - Date.now();
    if (early > 0) {
      // Timers may fire a millisecond before Date.now() reaches their time; a later quarantine
      // may also have extended this one.
      setTimeout(() => this.#revive(group, afterQuarantine), early + 1).unref();
      return;
    }
    this.get(group.specs[0]!.name);
    if (group.vm !== null && group.vm.failure === null) {
      if (afterQuarantine) this.#logger.info({ vm_filters: group.specs.map((s) => s.name) }, 'filter back in service');
    } else {
      // Its start failed (logged by get): try again once its backoff allows, at most once a second.
      setTimeout(() => this.#revive(group, afterQuarantine), Math.max(1000, group.retryAt - Date.now())).unref();
    }
  }

  /** Every live plugin (for metrics and shutdown). */
  plugins(): Plugin[] {
    return this.#groups.flatMap((g) => [...g.plugins.values()]);
  }

  stop(): void {
    this.#stopped = true;
    for (const group of this.#groups) for (const plugin of group.plugins.values()) plugin.stop();
  }

  #replace(group: VmGroup): void {
    const failed = group.vm;
    if (failed !== null) {
      this.#noteFailure(group);
      for (const plugin of group.plugins.values()) plugin.stop();
    }
    this.#startGroup(group);
    if (failed !== null) this.#logger.info({ vm_filters: group.specs.map((s) => s.name) }, 'filter VM replaced');
  }

  #noteFailure(group: VmGroup): void {
    group.quickFailures = Date.now() - group.startedAt < QUICK_FAILURE_MS ? group.quickFailures + 1 : 1;
    if (group.quickFailures >= BACKOFF_AFTER_QUICK_FAILURES) {
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (group.quickFailures - BACKOFF_AFTER_QUICK_FAILURES));
      group.retryAt = Date.now() + delay;
    }
  }

  #startGroup(group: VmGroup): void {
    const first = group.specs[0]!;
    const logger = this.#logger.child({ vm_id: first.vmId, module: group.module.file });
    group.vm = null;
    group.plugins = new Map();
    group.startedAt = Date.now();
    let vm: Vm;
    try {
      // Start-up reports negative ids (guest-watch.ts): it may take the watchdog's time, not a callback's.
      const onFailure = (failed: Vm): void => this.#failed(group, failed);
      vm = new Vm(group.module, { vmId: first.vmId, vmConfiguration: first.vmConfiguration, logger, environ: first.environ, watchId: -(group.index + 1), onFailure }, buildImports);
      vm.start();
    } catch (err) {
      throw new PluginStartError(first.name, `VM start failed: ${(err as Error).message}`);
    }
    const plugins = new Map<string, Plugin>();
    for (const spec of group.specs) {
      const pluginLogger = this.#logger.child({ plugin: spec.name, root_id: spec.rootId, vm_id: spec.vmId }, verboserLevel(this.#logger, spec.logLevel));
      const plugin = new Plugin(vm, spec, this.#services, pluginLogger);
      const watchId = this.#specs.indexOf(spec) + 1;
      plugin.watchId = -watchId;
      plugin.start();
      plugin.watchId = watchId;
      plugins.set(spec.name, plugin);
    }
    group.vm = vm;
    group.plugins = plugins;
  }
}
