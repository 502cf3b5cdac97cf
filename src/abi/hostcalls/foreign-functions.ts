// proxy_call_foreign_function: looks the name up in the proxy's registry (PluginServices) and
// hands the answer to the guest. Statuses follow proxy-wasm-cpp-host: bad pointers are
// INVALID_MEMORY_ACCESS, an unknown name NOT_FOUND, otherwise the function's own status. A
// results pointer of 0 means the guest does not want the result: nothing is allocated.

import type { Context } from '../context.ts';
import { defer } from '../deferred.ts';
import type { ForeignCallContext, ForeignResult, RegisteredForeignFunction } from '../foreign-functions.ts';
import type { Plugin } from '../plugin.ts';
import { ThrottledWarnings } from '../throttled-warning.ts';
import { Status } from '../types.ts';
import type { Vm } from '../vm.ts';
import { enter, loggerOf } from './util.ts';

const MAX_STATUS = Status.UNIMPLEMENTED;

/** The bytes of an asynchronous result, readable as buffer 8 while proxy_on_foreign_function runs. */
const deliveredArguments = new WeakMap<Plugin, Buffer>();

export function foreignFunctionArguments(plugin: Plugin): Buffer | undefined {
  return deliveredArguments.get(plugin);
}

export function foreignFunctionImports(vm: Vm) {
  const mem = vm.memory;
  // A guest can make a function fail on every request (arguments it rejects): one line per interval.
  const failures = new ThrottledWarnings();
  return {
    proxy_call_foreign_function(
      namePtr: number,
      nameSize: number,
      argumentsPtr: number,
      argumentsSize: number,
      resultsPtrPtr: number,
      resultsSizePtr: number,
    ): number {
      const ctx = enter(vm);
      const name = mem.utf8(namePtr, nameSize);
      const args = mem.copy(argumentsPtr, argumentsSize);
      if (name === null || args === null) return Status.INVALID_MEMORY_ACCESS;
      const entry = ctx?.plugin.services.foreignFunctions?.get(name);
      if (ctx === null || entry === undefined) {
        loggerOf(vm, ctx).debug({ function: name }, 'proxy_call_foreign_function: no such function');
        return Status.NOT_FOUND;
      }
      let answer: ReturnType<RegisteredForeignFunction['fn']>;
      try {
        answer = entry.fn(args, callContext(ctx, entry));
      } catch (err) {
        failures.warn('foreign function failed', ctx.logger, { function: name, err: (err as Error).message });
        return Status.INTERNAL_FAILURE;
      }
      mem.refresh();
      if (isPromise(answer)) {
        watch(ctx.plugin, entry, answer, failures);
        return writeResult(vm, EMPTY, resultsPtrPtr, resultsSizePtr);
      }
      const { status, result } = normalize(answer);
      if (status > MAX_STATUS || status < 0 || !Number.isInteger(status)) {
        failures.warn('foreign function answered an invalid status', ctx.logger, { function: name, status });
        return Status.INTERNAL_FAILURE;
      }
      if (status !== Status.OK) return status;
      return writeResult(vm, result, resultsPtrPtr, resultsSizePtr);
    },
  };
}

const EMPTY = new Uint8Array(0);

function callContext(ctx: Context, entry: RegisteredForeignFunction): ForeignCallContext {
  const config = ctx.plugin.config;
  return { filter: config.name, rootId: config.rootId, vmId: config.vmId, contextId: ctx.id, functionId: entry.id, logger: ctx.logger };
}

function normalize(answer: ForeignResult): { status: number; result: Uint8Array } {
  if (answer instanceof Uint8Array) return { status: Status.OK, result: answer };
  return { status: answer.status, result: answer.result ?? EMPTY };
}

function writeResult(vm: Vm, result: Uint8Array, resultsPtrPtr: number, resultsSizePtr: number): number {
  const mem = vm.memory;
  if (resultsPtrPtr === 0) {
    // Discarded, as in proxy-wasm-cpp-host; the size is still reported if asked for.
    if (resultsSizePtr !== 0 && !mem.writeU32(resultsSizePtr, result.length)) return Status.INVALID_MEMORY_ACCESS;
    return Status.OK;
  }
  return mem.copyOut(result, resultsPtrPtr, resultsSizePtr);
}

function isPromise(value: unknown): value is Promise<Uint8Array> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Delivers an asynchronous result to the plugin's root context, on a later turn. */
function watch(plugin: Plugin, entry: RegisteredForeignFunction, pending: Promise<Uint8Array>, failures: ThrottledWarnings): void {
  pending.then(
    (bytes) => {
      if (!(bytes instanceof Uint8Array)) {
        failures.warn('foreign function resolved with something other than bytes; not delivered', plugin.logger, { function: entry.name });
        return;
      }
      defer(() => deliver(plugin, entry.id, Buffer.from(bytes))); // a copy: the embedder keeps its own
    },
    (err: unknown) => {
      failures.warn('foreign function failed; nothing delivered', plugin.logger, { function: entry.name, err: err instanceof Error ? err.message : String(err) });
    },
  );
}

function deliver(plugin: Plugin, functionId: number, bytes: Buffer): void {
  if (!plugin.alive) return;
  deliveredArguments.set(plugin, bytes);
  try {
    plugin.callRoot('proxy_on_foreign_function', functionId, bytes.length);
  } finally {
    deliveredArguments.delete(plugin);
  }
}
