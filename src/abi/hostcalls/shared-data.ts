// proxy_get_shared_data and proxy_set_shared_data: the proxy-wide store (PluginServices.sharedData),
// in the namespace of this VM's vm_id.

import type { Context } from '../context.ts';
import type { PluginServices } from '../plugin.ts';
import { quoted } from '../quoted.ts';
import { Status } from '../types.ts';
import type { Vm } from '../vm.ts';
import { enter, loggerOf } from './util.ts';

/**
 * The proxy's services for a host call. Store and queues do not need a context, so a call made
 * while none is current (inside the guest allocator) uses the VM's plugins; only during VM
 * start-up, before any plugin exists, are they out of reach.
 */
export function servicesFor(vm: Vm, ctx: Context | null): PluginServices | undefined {
  if (ctx !== null) return ctx.plugin.services;
  for (const any of vm.contexts.all()) return any.plugin.services;
  return undefined;
}

export function sharedDataImports(vm: Vm) {
  const mem = vm.memory;
  const vmId = vm.options.vmId;
  return {
    proxy_get_shared_data(keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number, casPtr: number): number {
      const ctx = enter(vm);
      const key = mem.latin1(keyPtr, keySize);
      // Check every out slot before the allocator runs, so a bad one costs no guest memory.
      if (key === null || !mem.inBounds(casPtr, 4) || !mem.inBounds(valuePtrPtr, 4) || !mem.inBounds(valueSizePtr, 4)) {
        return Status.INVALID_MEMORY_ACCESS;
      }
      const entry = servicesFor(vm, ctx)?.sharedData.get(vmId, key);
      if (entry === undefined) return Status.NOT_FOUND;
      const status = mem.copyOut(entry.value, valuePtrPtr, valueSizePtr);
      if (status !== Status.OK) return status;
      mem.writeU32(casPtr, entry.cas);
      return Status.OK;
    },

    proxy_set_shared_data(keyPtr: number, keySize: number, valuePtr: number, valueSize: number, cas: number): number {
      const ctx = enter(vm);
      const key = mem.latin1(keyPtr, keySize);
      const value = mem.copy(valuePtr, valueSize);
      if (key === null || value === null) return Status.INVALID_MEMORY_ACCESS;
      const services = servicesFor(vm, ctx);
      if (services === undefined) {
        vm.logger.warn({ key: quoted(key) }, 'proxy_set_shared_data during VM start-up: no store yet');
        return Status.BAD_ARGUMENT;
      }
      return services.sharedData.set(vmId, key, value, cas >>> 0, loggerOf(vm, ctx));
    },
  };
}
