// proxy_http_call with the answer routed by token, for filters that call out on behalf of a
// stream. Not the SDK's RootContext.httpCall: its answer path makes the calling stream the
// effective context before anything else and logs at critical level when that fails, which is
// what any host answers (BAD_ARGUMENT, as Envoy does) once the stream has ended. A client that
// left while its request waited for the call would leave a critical line behind. Here the
// filter gets the answer with its stream and decides, knowing whether the stream is still there.
import { Context, HeaderPair } from "@solo-io/proxy-runtime";
import { WasmResultValues } from "@solo-io/proxy-runtime/runtime";
import * as imports from "@solo-io/proxy-runtime/imports";

// Where the host writes the call's token.
const TOKEN: usize = memory.data(4);

// Header pairs as the ABI passes a map: a u32 count, a (name length, value length) u32 pair
// per entry, then each name and value followed by a NUL.
export function encodePairs(pairs: Array<HeaderPair>): ArrayBuffer {
  let size: usize = 4;
  for (let i = 0; i < pairs.length; i++) size += 8 + <usize>pairs[i].key.byteLength + <usize>pairs[i].value.byteLength + 2;
  const out = new ArrayBuffer(<i32>size);
  const base = changetype<usize>(out);
  store<u32>(base, pairs.length);
  let sizes = base + 4;
  let data = base + 4 + 8 * <usize>pairs.length;
  for (let i = 0; i < pairs.length; i++) {
    const key = pairs[i].key;
    const value = pairs[i].value;
    store<u32>(sizes, key.byteLength);
    store<u32>(sizes, value.byteLength, 4);
    sizes += 8;
    memory.copy(data, changetype<usize>(key), key.byteLength);
    data += <usize>key.byteLength;
    store<u8>(data, 0);
    data += 1;
    memory.copy(data, changetype<usize>(value), value.byteLength);
    data += <usize>value.byteLength;
    store<u8>(data, 0);
    data += 1;
  }
  return out;
}

// The calls a root context has out, by token, each with the stream it was made for. Holding
// the stream keeps its context alive past on_delete until the answer comes.
export class PendingCalls<T extends Context> {
  private byToken: Map<u32, T> = new Map();

  // Sends a call with no body and no trailers; on Ok, `stream` waits for its answer.
  dispatch(stream: T, cluster: ArrayBuffer, headers: Array<HeaderPair>, timeoutMs: u32): WasmResultValues {
    const pairs = encodePairs(headers);
    const result = imports.proxy_http_call(changetype<usize>(cluster), cluster.byteLength,
      changetype<usize>(pairs), pairs.byteLength, 0, 0, 0, 0, timeoutMs, TOKEN) as WasmResultValues;
    if (result == WasmResultValues.Ok) this.byToken.set(load<u32>(TOKEN), stream);
    return result;
  }

  has(token: u32): bool {
    return this.byToken.has(token);
  }

  // The stream the answer with `token` is for, no longer waiting (check `has` first).
  take(token: u32): T {
    const stream = this.byToken.get(token);
    this.byToken.delete(token);
    return stream;
  }
}
