// proxy_register_shared_queue, proxy_resolve_shared_queue, proxy_enqueue_shared_queue and
// proxy_dequeue_shared_queue over the proxy-wide registry (PluginServices.queues). The consumer
// of a queue is the caller's root context (a stream context registers its root).

import { quoted } from '../quoted.ts';
import { Status } from '../types.ts';
import type { Vm } from '../vm.ts';
import { servicesFor } from './shared-data.ts';
import { enter, loggerOf } from './util.ts';

export function sharedQueueImports(vm: Vm) {
  const mem = vm.memory;
  const ownVmId = vm.options.vmId;
  return {
    proxy_register_shared_queue(namePtr: number, nameSize: number, tokenPtr: number): number {
      const ctx = enter(vm);
      const name = mem.latin1(namePtr, nameSize);
      if (name === null || !mem.inBounds(tokenPtr, 4)) return Status.INVALID_MEMORY_ACCESS;
      const queues = servicesFor(vm, ctx)?.queues;
      if (queues === undefined) {
        vm.logger.warn({ queue: quoted(name) }, 'proxy_register_shared_queue during VM start-up: no queues yet');
        return Status.BAD_ARGUMENT;
      }
      // Without a current context (inside the allocator) the queue exists but nobody consumes it.
      mem.writeU32(tokenPtr, queues.register(ownVmId, name, ctx === null ? null : ctx.plugin, loggerOf(vm, ctx)));
      return Status.OK;
    },

    proxy_resolve_shared_queue(vmIdPtr: number, vmIdSize: number, namePtr: number, nameSize: number, tokenPtr: number): number {
      const ctx = enter(vm);
      const vmId = mem.utf8(vmIdPtr, vmIdSize);
      const name = mem.latin1(namePtr, nameSize);
      if (vmId === null || name === null || !mem.inBounds(tokenPtr, 4)) return Status.INVALID_MEMORY_ACCESS;
      const token = servicesFor(vm, ctx)?.queues.resolve(vmId === '' ? ownVmId : vmId, name);
      if (token === undefined) return Status.NOT_FOUND;
      mem.writeU32(tokenPtr, token);
      return Status.OK;
    },

    proxy_enqueue_shared_queue(token: number, valuePtr: number, valueSize: number): number {
      const ctx = enter(vm);
      const value = mem.copy(valuePtr, valueSize);
      if (value === null) return Status.INVALID_MEMORY_ACCESS;
      return servicesFor(vm, ctx)?.queues.enqueue(token >>> 0, value, loggerOf(vm, ctx)) ?? Status.NOT_FOUND;
    },

    proxy_dequeue_shared_queue(token: number, valuePtrPtr: number, valueSizePtr: number): number {
      const ctx = enter(vm);
      // Check the out slots first: a popped item that cannot be handed over would be lost.
      if (!mem.inBounds(valuePtrPtr, 4) || !mem.inBounds(valueSizePtr, 4)) return Status.INVALID_MEMORY_ACCESS;
      const item = servicesFor(vm, ctx)?.queues.dequeue(token >>> 0) ?? Status.NOT_FOUND;
      if (typeof item === 'number') return item;
      const status = mem.copyOut(item, valuePtrPtr, valueSizePtr);
      if (status !== Status.OK) loggerOf(vm, ctx).warn({ token: token >>> 0, bytes: item.length }, 'dequeued item lost: the guest allocator failed');
      return status;
    },
  };
}
