// The header-map functions: request/response headers and trailers of the current stream, and
// the headers/trailers of the http_call response and the gRPC metadata being delivered. Keys are
// lower-cased; values are bytes (latin1 strings), so nothing a guest writes is re-encoded.

import type { Context } from '../context.ts';
import type { HeaderMap } from '../header-map.ts';
import { guestHeaderName } from '../header-names.ts';
import { firstInvalidPair, isHeaderValueBytes } from '../header-validation.ts';
import { decodePairs } from '../pairs.ts';
import { MAX_QUOTED_CHARS, quoted } from '../quoted.ts';
import { ThrottledWarning } from '../throttled-warning.ts';
import { AbiVersion, MapType, MAX_MAP_TYPE, Status } from '../types.ts';
import type { Vm } from '../vm.ts';
import { enter } from './util.ts';

/** The map of `type` the context can see, or undefined. `write` asks for a modifiable one. */
function mapOf(ctx: Context | null, type: number, write: boolean): HeaderMap | undefined {
  if (ctx === null) return undefined;
  if (type <= MapType.HTTP_RESPONSE_TRAILERS) return ctx.stream?.headerMap(type, write);
  if (write) return undefined; // call results and gRPC metadata are read-only
  if (type === MapType.GRPC_CALL_INITIAL_METADATA) return ctx.root.grpcReceived?.initialMetadata;
  if (type === MapType.GRPC_CALL_TRAILING_METADATA) return ctx.root.grpcReceived?.trailingMetadata;
  const result = ctx.plugin.callResult;
  if (result === null) return undefined;
  if (type === MapType.HTTP_CALL_RESPONSE_HEADERS) return result.headers;
  if (type === MapType.HTTP_CALL_RESPONSE_TRAILERS) return result.trailers;
  return undefined;
}

export function headerMapImports(vm: Vm) {
  const mem = vm.memory;
  const legacyMissingKey = vm.abi === AbiVersion.V0_1_0;
  // A filter edits every request the same way: one line per interval, not one per request.
  const invalidHeader = new ThrottledWarning('header refused: HTTP cannot carry this name or value (BAD_ARGUMENT)');

  /** A header HTTP cannot carry: logged (throttled), answered with BAD_ARGUMENT. */
  const refuse = (ctx: Context | null, call: string, keyPtr: number, keySize: number): number => {
    // Only the bytes quoted() would show are read: the name may be megabytes.
    const shown = mem.bytes.latin1Slice(keyPtr, keyPtr + Math.min(keySize, MAX_QUOTED_CHARS));
    invalidHeader.warn(ctx?.logger, { call, name: keySize > MAX_QUOTED_CHARS ? `${shown}… (${keySize} characters)` : shown });
    return Status.BAD_ARGUMENT;
  };

  // A guest's key becomes a name through the cache of decoded names (header-names.ts): no
  // string is made for a name seen before.

  /**
   * The index of the first entry named like the guest's key, or -1. Most lookups of an absent
   * header end at the length check, without resolving the key to a name.
   */
  const indexOfKey = (map: HeaderMap | undefined, keyPtr: number, keySize: number): number => {
    if (map === undefined) return -1;
    const first = map.firstOfLength(keySize);
    if (first === -1) return -1;
    // A key that is not a header name (null) cannot be in any map.
    const name = guestHeaderName(mem.bytes, mem.view, keyPtr, keySize);
    return name === null ? -1 : map.indexOf(name, first);
  };

  /** add_header_map_value, or with `replace` replace_header_map_value. */
  const putValue = (replace: boolean, type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number => {
    const ctx = enter(vm);
    if (type >>> 0 > MAX_MAP_TYPE) return Status.BAD_ARGUMENT;
    const value = mem.latin1(valuePtr, valueSize);
    if (value === null || !mem.inBounds(keyPtr, keySize)) return Status.INVALID_MEMORY_ACCESS;
    const map = mapOf(ctx, type, true);
    if (map === undefined) return Status.BAD_ARGUMENT;
    // Checked here, not when the message is written (header-validation.ts).
    const name = guestHeaderName(mem.bytes, mem.view, keyPtr >>> 0, keySize >>> 0);
    if (name === null || !isHeaderValueBytes(mem.view, valuePtr >>> 0, valueSize >>> 0)) {
      return refuse(ctx, replace ? 'proxy_replace_header_map_value' : 'proxy_add_header_map_value', keyPtr >>> 0, keySize >>> 0);
    }
    if (replace) map.setLowerCase(name, value);
    else map.addLowerCase(name, value);
    return Status.OK;
  };

  return {
    proxy_get_header_map_pairs(type: number, dataPtrPtr: number, sizePtr: number): number {
      const ctx = enter(vm);
      if (type >>> 0 > MAX_MAP_TYPE) return Status.BAD_ARGUMENT;
      const map = mapOf(ctx, type, false);
      // An unavailable map reads as empty, never as an error: the Rust SDK panics on non-OK.
      if (map === undefined || map.size === 0) return mem.copyOut(Buffer.alloc(0), dataPtrPtr, sizePtr);
      return mem.copyOut(map.encode(), dataPtrPtr, sizePtr);
    },

    proxy_set_header_map_pairs(type: number, pairsPtr: number, pairsSize: number): number {
      const ctx = enter(vm);
      if (type >>> 0 > MAX_MAP_TYPE) return Status.BAD_ARGUMENT;
      const bytes = mem.slice(pairsPtr, pairsSize);
      if (bytes === null) return Status.INVALID_MEMORY_ACCESS;
      const pairs = decodePairs(bytes);
      if (pairs === null) return Status.BAD_ARGUMENT;
      const map = mapOf(ctx, type, true);
      if (map === undefined) return Status.BAD_ARGUMENT;
      const invalid = firstInvalidPair(pairs);
      if (invalid !== undefined) {
        invalidHeader.warn(ctx?.logger, { call: 'proxy_set_header_map_pairs', name: quoted(invalid[0]) });
        return Status.BAD_ARGUMENT; // the map stays as it was
      }
      map.replaceAll(pairs);
      return Status.OK;
    },

    proxy_get_header_map_value(type: number, keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const ctx = enter(vm);
      if (type >>> 0 > MAX_MAP_TYPE) return Status.BAD_ARGUMENT;
      if (!mem.inBounds(keyPtr, keySize)) return Status.INVALID_MEMORY_ACCESS;
      const map = mapOf(ctx, type, false);
      const i = indexOfKey(map, keyPtr >>> 0, keySize >>> 0);
      if (i === -1) {
        // ABI 0.1.0 reports a missing key as present-but-empty; 0.2.x as NOT_FOUND.
        return legacyMissingKey ? mem.copyOutLatin1('', valuePtrPtr, valueSizePtr) : Status.NOT_FOUND;
      }
      return mem.copyOutLatin1(map!.values[i]!, valuePtrPtr, valueSizePtr);
    },

    proxy_add_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      return putValue(false, type, keyPtr, keySize, valuePtr, valueSize);
    },

    proxy_replace_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      return putValue(true, type, keyPtr, keySize, valuePtr, valueSize);
    },

    proxy_remove_header_map_value(type: number, keyPtr: number, keySize: number): number {
      const ctx = enter(vm);
      if (type >>> 0 > MAX_MAP_TYPE) return Status.BAD_ARGUMENT;
      if (!mem.inBounds(keyPtr, keySize)) return Status.INVALID_MEMORY_ACCESS;
      const map = mapOf(ctx, type, true);
      if (map === undefined) return Status.BAD_ARGUMENT;
      const i = indexOfKey(map, keyPtr >>> 0, keySize >>> 0);
      if (i !== -1) map.removeNamedAt(i); // i is the name's first entry: nothing to look up again
      return Status.OK;
    },

    proxy_get_header_map_size(type: number, sizePtr: number): number {
      const ctx = enter(vm);
      if (type >>> 0 > MAX_MAP_TYPE) return Status.BAD_ARGUMENT;
      const map = mapOf(ctx, type, false);
      return mem.writeU32(sizePtr, map?.byteSize ?? 0) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
  };
}
