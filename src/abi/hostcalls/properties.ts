// proxy_get_property / proxy_set_property. Plugin attributes are answered here; stream
// attributes (request.*, response.*, source.*, ...) and values set during a request come from
// the stream host. Values set from a root context live with the plugin. Both stores are bounded
// (property-store.ts).

import type { Context, PropertyValue } from '../context.ts';
import { decodePropertyPath } from '../pairs.ts';
import { propertyPathFromBytes } from '../property-paths.ts';
import { MAX_PROPERTY_BYTES } from '../limits.ts';
import { quoted } from '../quoted.ts';
import { ThrottledWarning } from '../throttled-warning.ts';
import { Status } from '../types.ts';
import type { Vm } from '../vm.ts';
import { enter } from './util.ts';

export function resolveProperty(ctx: Context, path: readonly string[]): PropertyValue | undefined {
  if (path.length === 1) {
    const config = ctx.plugin.config;
    switch (path[0]) {
      case 'plugin_name':
        return config.name;
      case 'plugin_root_id':
        return config.rootId;
      case 'plugin_vm_id':
        return config.vmId;
    }
  }
  return ctx.stream?.property(path) ?? ctx.plugin.properties.get(path.join('\0')) ?? ctx.plugin.services.hostProperty?.(path);
}

export function propertyImports(vm: Vm) {
  const mem = vm.memory;
  const full = new ThrottledWarning('property store is full: proxy_set_property dropped (the filter was told OK)');
  return {
    proxy_get_property(pathPtr: number, pathSize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const ctx = enter(vm);
      if (!mem.inBounds(pathPtr, pathSize)) return Status.INVALID_MEMORY_ACCESS;
      if (ctx === null) return Status.NOT_FOUND;
      const value = resolveProperty(ctx, propertyPathFromBytes(mem.bytes, mem.view, pathPtr >>> 0, pathSize >>> 0));
      if (value === undefined) return Status.NOT_FOUND;
      return typeof value === 'string' ? mem.copyOutLatin1(value, valuePtrPtr, valueSizePtr) : mem.copyOut(value, valuePtrPtr, valueSizePtr);
    },

    proxy_set_property(pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
      const ctx = enter(vm);
      const raw = mem.slice(pathPtr, pathSize);
      const value = mem.copy(valuePtr, valueSize);
      if (raw === null || value === null) return Status.INVALID_MEMORY_ACCESS;
      if (ctx === null) return Status.BAD_ARGUMENT;
      const path = decodePropertyPath(raw);
      // Envoy answers NOT_FOUND from a root context, which crashes Rust filters; keep it instead.
      const kept = ctx.stream !== undefined ? ctx.stream.setProperty(path, value) : ctx.plugin.properties.set(path.join('\0'), value);
      // Past the bound the write is dropped but answered OK, as a full shared data store does:
      // the Rust SDK panics on any other status.
      if (!kept) full.warn(ctx.logger, { path: quoted(path.join('.')), bytes: value.length, max_bytes: MAX_PROPERTY_BYTES, store: ctx.stream !== undefined ? 'stream' : 'plugin' });
      return Status.OK;
    },
  };
}
