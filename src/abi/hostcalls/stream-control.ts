// Stream control: continue, close, local responses, and the context switches guests use to act
// on a stream from a root callback. Effects are applied by the stream host after the current
// guest call returns (never re-entrantly).

import type { Context } from '../context.ts';
import { defer } from '../deferred.ts';
import { firstInvalidPair } from '../header-validation.ts';
import { decodePairs } from '../pairs.ts';
import { RootContext, StreamContext } from '../context.ts';
import { quoted } from '../quoted.ts';
import { ThrottledWarnings } from '../throttled-warning.ts';
import { Status, StreamType } from '../types.ts';
import type { Vm } from '../vm.ts';
import { enter } from './util.ts';

function continueStream(ctx: Context | null, type: number): number {
  if (type >>> 0 > StreamType.UPSTREAM) return Status.BAD_ARGUMENT;
  if (type === StreamType.DOWNSTREAM || type === StreamType.UPSTREAM) return Status.UNIMPLEMENTED; // no TCP filters yet
  const stream = ctx?.stream;
  if (stream === undefined) {
    ctx?.logger.debug({ context_id: ctx.id }, 'continue_stream outside a stream context ignored');
    return Status.OK;
  }
  stream.continueStream(type as StreamType);
  return Status.OK;
}

export function streamControlImports(vm: Vm) {
  const mem = vm.memory;
  // A filter that asks every request for a reply HTTP cannot carry: one line per interval.
  const refusals = new ThrottledWarnings();
  return {
    proxy_continue_stream(type: number): number {
      return continueStream(enter(vm), type);
    },

    /** ABI 0.1.0 spellings of continue_stream(HTTP_REQUEST / HTTP_RESPONSE). */
    proxy_continue_request(): number {
      return continueStream(enter(vm), StreamType.HTTP_REQUEST);
    },
    proxy_continue_response(): number {
      return continueStream(enter(vm), StreamType.HTTP_RESPONSE);
    },
    /** Routes are re-evaluated whenever a filter edits request headers, so nothing to do. */
    proxy_clear_route_cache(): number {
      enter(vm);
      return Status.OK;
    },

    proxy_close_stream(type: number): number {
      const ctx = enter(vm);
      if (type >>> 0 > StreamType.UPSTREAM) return Status.BAD_ARGUMENT;
      if (type === StreamType.DOWNSTREAM || type === StreamType.UPSTREAM) return Status.UNIMPLEMENTED;
      ctx?.stream?.closeStream(type as StreamType);
      return Status.OK;
    },

    proxy_send_local_response(
      statusCode: number,
      detailsPtr: number,
      detailsSize: number,
      bodyPtr: number,
      bodySize: number,
      headersPtr: number,
      headersSize: number,
      grpcStatus: number,
    ): number {
      const ctx = enter(vm);
      const details = mem.latin1(detailsPtr, detailsSize);
      const body = mem.copy(bodyPtr, bodySize);
      const headerBytes = mem.slice(headersPtr, headersSize);
      if (details === null || body === null || headerBytes === null) return Status.INVALID_MEMORY_ACCESS;
      const headers = decodePairs(headerBytes);
      const status = statusCode >>> 0;
      /** Told to the guest (BAD_ARGUMENT), the log and the stream, which may answer for the filter. */
      const refuse = (fields: Record<string, unknown>, message: string): number => {
        refusals.warn(`send_local_response refused: ${message}`, ctx?.logger, fields);
        ctx?.stream?.localResponseRefused?.();
        return Status.BAD_ARGUMENT;
      };
      if (headers === null || status < 200 || status > 999) return refuse({ status }, 'bad status code or malformed headers');
      const invalid = firstInvalidPair(headers);
      if (invalid !== undefined) return refuse({ status, name: quoted(invalid[0]) }, 'HTTP cannot carry this header name or value');
      const stream = ctx?.stream;
      if (stream === undefined) {
        ctx?.logger.debug('send_local_response outside a stream context ignored');
        return Status.OK;
      }
      stream.sendLocalResponse({ status, details: details.replace(/\s/g, '_'), body, headers, grpcStatus: grpcStatus | 0 });
      return Status.OK;
    },

    proxy_get_status(codePtr: number, messagePtrPtr: number, messageSizePtr: number): number {
      const ctx = enter(vm);
      const status = ctx?.root.status ?? { code: 0, message: '' };
      if (!mem.writeU32(codePtr, status.code)) return Status.INVALID_MEMORY_ACCESS;
      return mem.copyOutLatin1(status.message, messagePtrPtr, messageSizePtr);
    },

    proxy_set_effective_context(contextId: number): number {
      enter(vm);
      const target = vm.contexts.get(contextId >>> 0);
      if (target === undefined || (target instanceof StreamContext && target.deleted)) return Status.BAD_ARGUMENT;
      vm.effective = target;
      return Status.OK;
    },

    /** Completes a root context that answered false from proxy_on_done. */
    proxy_done(): number {
      const ctx = enter(vm);
      if (!(ctx instanceof RootContext) || !ctx.pendingDone) return Status.NOT_FOUND;
      const plugin = ctx.plugin;
      defer(() => plugin.deleteRoot());
      return Status.OK;
    },

    proxy_set_tick_period_milliseconds(periodMs: number): number {
      const ctx = enter(vm);
      // From a stream context this sets its root's timer, as in Envoy.
      ctx?.plugin.setTickPeriod(periodMs >>> 0);
      return Status.OK;
    },
  };
}
