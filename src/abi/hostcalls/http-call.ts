// proxy_http_call: an out-of-band request owned by the caller's root context. The embedding
// resolves the upstream (a cluster name) and performs the call; the result comes back through
// proxy_on_http_call_response on the root context.

import { firstInvalidPair } from '../header-validation.ts';
import { decodePairs } from '../pairs.ts';
import { quoted } from '../quoted.ts';
import { ThrottledWarnings } from '../throttled-warning.ts';
import { Status } from '../types.ts';
import type { Vm } from '../vm.ts';
import { enter } from './util.ts';

const REQUIRED = [':method', ':path', ':authority'] as const;

export function httpCallImports(vm: Vm) {
  const mem = vm.memory;
  // A filter whose call is refused usually tries again on every request: each reason is logged
  // at most once per interval, with how many were held back (a chaos run logged 5000 lines for
  // one request's calls).
  const refusals = new ThrottledWarnings();
  function proxy_http_call(
    upstreamPtr: number,
    upstreamSize: number,
    headersPtr: number,
    headersSize: number,
    bodyPtr: number,
    bodySize: number,
    trailersPtr: number,
    trailersSize: number,
    timeoutMs: number,
    tokenPtr: number,
  ): number {
    const ctx = enter(vm);
    const upstream = mem.latin1(upstreamPtr, upstreamSize);
    const headerBytes = mem.slice(headersPtr, headersSize);
    const trailerBytes = mem.slice(trailersPtr, trailersSize);
    const body = mem.copy(bodyPtr, bodySize);
    // Write the token slot first so a bad out pointer fails before anything is sent.
    if (upstream === null || headerBytes === null || trailerBytes === null || body === null || !mem.writeU32(tokenPtr, 0)) {
      return Status.INVALID_MEMORY_ACCESS;
    }
    if (ctx === null) return Status.BAD_ARGUMENT;
    const headers = decodePairs(headerBytes);
    const trailers = decodePairs(trailerBytes);
    const refuse = (reason: string): number => {
      refusals.warn(`http_call refused: ${reason}`, ctx.logger, { upstream: quoted(upstream) });
      return Status.BAD_ARGUMENT;
    };
    if (headers === null || trailers === null) return refuse('malformed headers or trailers');
    const invalid = firstInvalidPair(headers) ?? firstInvalidPair(trailers);
    if (invalid !== undefined) return refuse(`HTTP cannot carry the header ${JSON.stringify(quoted(invalid[0]))} or its value`);
    for (const pair of headers) pair[0] = pair[0].toLowerCase();
    for (const name of REQUIRED) {
      // Envoy checks that :authority exists, not its value: the Go SDK's multiple_dispatches
      // example dispatches with an empty one (sent as an empty Host).
      const usable = (p: [string, string]) => p[0] === name && (p[1] !== '' || name === ':authority');
      if (!headers.some(usable)) return refuse(`the ${name} header is required`);
    }
    if ((timeoutMs | 0) < 0) return refuse('negative timeout');
    const result = ctx.plugin.httpCall({ plugin: ctx.plugin.config.name, upstream, headers, body, trailers, timeoutMs: timeoutMs >>> 0 });
    if (result.status !== Status.OK) return refuse(result.reason ?? 'rejected');
    mem.writeU32(tokenPtr, result.token);
    return Status.OK;
  }
  // proxy_dispatch_http_call is the vNEXT-draft spelling of the same call.
  return { proxy_http_call, proxy_dispatch_http_call: proxy_http_call };
}
