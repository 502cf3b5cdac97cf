// proxy_grpc_call, proxy_grpc_stream, proxy_grpc_send, proxy_grpc_cancel, proxy_grpc_close
// (reference §4.10). Calls belong to the caller's root context, as http_call's do; the results
// come back through the proxy_on_grpc_* callbacks (see ../grpc.ts). Statuses stay within what
// the Rust SDK accepts: OK / PARSE_FAILURE / INTERNAL_FAILURE for call and stream, OK /
// BAD_ARGUMENT / NOT_FOUND for send, OK / NOT_FOUND for cancel and close.

import type { Context } from '../context.ts';
import { GrpcCallouts, type GrpcStart, type GrpcTarget } from '../grpc.ts';
import { clusterOfService } from '../grpc-service.ts';
import { firstInvalidPair } from '../header-validation.ts';
import { decodePairs } from '../pairs.ts';
import { quoted } from '../quoted.ts';
import { ThrottledWarnings } from '../throttled-warning.ts';
import { Status } from '../types.ts';
import type { Vm } from '../vm.ts';
import { enter } from './util.ts';

export function grpcImports(vm: Vm) {
  const mem = vm.memory;
  // As http_call's: a refused call is usually tried again on every request.
  const refusals = new ThrottledWarnings();

  /** Reads the arguments call and stream share; a Status when they are unusable. */
  function readTarget(
    servicePtr: number,
    serviceSize: number,
    serviceNamePtr: number,
    serviceNameSize: number,
    methodPtr: number,
    methodSize: number,
    metadataPtr: number,
    metadataSize: number,
  ): GrpcTarget | Status {
    const service = mem.slice(servicePtr, serviceSize);
    const serviceName = mem.latin1(serviceNamePtr, serviceNameSize);
    const method = mem.latin1(methodPtr, methodSize);
    const metadataBytes = mem.slice(metadataPtr, metadataSize);
    if (service === null || serviceName === null || method === null || metadataBytes === null) return Status.INVALID_MEMORY_ACCESS;
    const initialMetadata = decodePairs(metadataBytes);
    // HTTP/2 refuses what HTTP/1 does (and upper-case names too, but those are lowered below).
    if (initialMetadata === null || firstInvalidPair(initialMetadata) !== undefined) return Status.BAD_ARGUMENT;
    for (const pair of initialMetadata) pair[0] = pair[0].toLowerCase();
    return { cluster: clusterOfService(service), serviceName, method, initialMetadata };
  }

  /** Writes the token (or reports the refusal) the same way for call and stream. */
  function finish(ctx: Context, what: string, target: GrpcTarget, result: GrpcStart, tokenPtr: number): number {
    if (result.status !== Status.OK) {
      const details = { cluster: quoted(target.cluster), service: quoted(target.serviceName), method: quoted(target.method) };
      refusals.warn(`${what} refused: ${result.reason ?? 'rejected'}`, ctx.logger, details);
      return result.status;
    }
    mem.writeU32(tokenPtr, result.token);
    return Status.OK;
  }

  return {
    proxy_grpc_call(
      servicePtr: number,
      serviceSize: number,
      serviceNamePtr: number,
      serviceNameSize: number,
      methodPtr: number,
      methodSize: number,
      metadataPtr: number,
      metadataSize: number,
      messagePtr: number,
      messageSize: number,
      timeoutMs: number,
      tokenPtr: number,
    ): number {
      const ctx = enter(vm);
      const target = readTarget(servicePtr, serviceSize, serviceNamePtr, serviceNameSize, methodPtr, methodSize, metadataPtr, metadataSize);
      const message = mem.copy(messagePtr, messageSize);
      // Write the token slot first so a bad out pointer fails before anything is sent.
      if (message === null || !mem.writeU32(tokenPtr, 0)) return Status.INVALID_MEMORY_ACCESS;
      if (typeof target === 'number') return target;
      if (ctx === null) return Status.INTERNAL_FAILURE;
      const result = GrpcCallouts.of(ctx.plugin).call({ ...target, message, timeoutMs: timeoutMs >>> 0 });
      return finish(ctx, 'grpc_call', target, result, tokenPtr);
    },

    proxy_grpc_stream(
      servicePtr: number,
      serviceSize: number,
      serviceNamePtr: number,
      serviceNameSize: number,
      methodPtr: number,
      methodSize: number,
      metadataPtr: number,
      metadataSize: number,
      tokenPtr: number,
    ): number {
      const ctx = enter(vm);
      const target = readTarget(servicePtr, serviceSize, serviceNamePtr, serviceNameSize, methodPtr, methodSize, metadataPtr, metadataSize);
      if (!mem.writeU32(tokenPtr, 0)) return Status.INVALID_MEMORY_ACCESS;
      if (typeof target === 'number') return target;
      if (ctx === null) return Status.INTERNAL_FAILURE;
      return finish(ctx, 'grpc_stream', target, GrpcCallouts.of(ctx.plugin).stream(target), tokenPtr);
    },

    proxy_grpc_send(token: number, messagePtr: number, messageSize: number, endStream: number): number {
      const ctx = enter(vm);
      const message = mem.copy(messagePtr, messageSize);
      if (message === null) return Status.INVALID_MEMORY_ACCESS;
      if (ctx === null) return Status.NOT_FOUND;
      const result = GrpcCallouts.of(ctx.plugin).send(token >>> 0, message, endStream !== 0);
      if (result.reason !== undefined) refusals.warn(`grpc_send refused: ${result.reason}`, ctx.logger, { token: token >>> 0 });
      return result.status;
    },

    proxy_grpc_cancel(token: number): number {
      const ctx = enter(vm);
      if (ctx === null) return Status.NOT_FOUND;
      return GrpcCallouts.of(ctx.plugin).cancel(token >>> 0);
    },

    proxy_grpc_close(token: number): number {
      const ctx = enter(vm);
      if (ctx === null) return Status.NOT_FOUND;
      return GrpcCallouts.of(ctx.plugin).close(token >>> 0);
    },
  };
}
