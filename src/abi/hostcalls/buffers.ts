// Buffers: request/response bodies of the stream, the http_call response body, the gRPC message
// being delivered, and the VM and plugin configurations. Range semantics follow Envoy (start past
// the end reads as empty) and writes implement the spec's full splice, a superset of what Envoy
// accepts.

import type { Context } from '../context.ts';
import { BodyBuffer, rangeOf } from '../body-buffer.ts';
import { BufferType, MAX_BUFFER_TYPE, Status } from '../types.ts';
import type { Vm } from '../vm.ts';
import { foreignFunctionArguments } from './foreign-functions.ts';
import { enter } from './util.ts';

/** A read-only buffer or a stream body (which may be edited), or undefined when absent. */
function bufferOf(vm: Vm, ctx: Context | null, type: number): Buffer | BodyBuffer | undefined {
  switch (type) {
    case BufferType.HTTP_REQUEST_BODY:
    case BufferType.HTTP_RESPONSE_BODY:
      return ctx?.stream?.body(type);
    case BufferType.HTTP_CALL_RESPONSE_BODY:
      return ctx?.plugin.callResult?.body;
    case BufferType.GRPC_CALL_MESSAGE:
      return ctx?.root.grpcReceived?.message;
    case BufferType.VM_CONFIGURATION:
      return vm.options.vmConfiguration;
    case BufferType.PLUGIN_CONFIGURATION:
      // Envoy exposes it only during on_configure; we keep it readable (harmless, and filters
      // that re-read their configuration later keep working).
      return ctx?.plugin.config.configuration;
    case BufferType.FOREIGN_FUNCTION_ARGUMENTS:
      // Only while proxy_on_foreign_function delivers an asynchronous result.
      return ctx === null ? undefined : foreignFunctionArguments(ctx.plugin);
    default:
      return undefined;
  }
}

export function bufferImports(vm: Vm) {
  const mem = vm.memory;
  return {
    proxy_get_buffer_bytes(type: number, start: number, maxSize: number, dataPtrPtr: number, sizePtr: number): number {
      const ctx = enter(vm);
      if (type >>> 0 > MAX_BUFFER_TYPE) return Status.BAD_ARGUMENT;
      const buffer = bufferOf(vm, ctx, type);
      if (buffer === undefined) return Status.NOT_FOUND;
      const from = start >>> 0;
      const max = maxSize >>> 0;
      const bytes = buffer instanceof BodyBuffer ? buffer.read(from, max) : rangeOf(buffer, from, max);
      return mem.copyOut(bytes, dataPtrPtr, sizePtr);
    },

    proxy_set_buffer_bytes(type: number, start: number, size: number, dataPtr: number, dataSize: number): number {
      const ctx = enter(vm);
      if (type >>> 0 > MAX_BUFFER_TYPE) return Status.BAD_ARGUMENT;
      const data = mem.copy(dataPtr, dataSize);
      if (data === null) return Status.INVALID_MEMORY_ACCESS;
      const buffer = bufferOf(vm, ctx, type);
      if (buffer === undefined) return Status.NOT_FOUND;
      if (!(buffer instanceof BodyBuffer)) return Status.BAD_ARGUMENT; // configurations are immutable
      buffer.splice(start >>> 0, size >>> 0, data);
      return Status.OK;
    },

    proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number): number {
      const ctx = enter(vm);
      if (type >>> 0 > MAX_BUFFER_TYPE) return Status.BAD_ARGUMENT;
      const buffer = bufferOf(vm, ctx, type);
      if (buffer === undefined) return Status.NOT_FOUND;
      if (!mem.writeU32(lengthPtr, buffer.length) || !mem.writeU32(flagsPtr, 0)) return Status.INVALID_MEMORY_ACCESS;
      return Status.OK;
    },

    /** ABI 0.1.0: the plugin configuration during on_configure, else the VM configuration. */
    proxy_get_configuration(dataPtrPtr: number, sizePtr: number): number {
      const ctx = enter(vm);
      const plugin = ctx?.plugin;
      const bytes = plugin !== undefined && plugin.configuring ? plugin.config.configuration : vm.options.vmConfiguration;
      return mem.copyOut(bytes, dataPtrPtr, sizePtr);
    },
  };
}
