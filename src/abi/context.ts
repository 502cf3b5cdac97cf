// Contexts: the root context of a plugin (one per filter per VM) and stream contexts (one per
// request per filter). Host functions reach the embedding only through these objects, and
// stream contexts reach the proxy only through the narrow StreamHost interface.

import type { Logger } from 'pino';
import type { BodyBuffer } from './body-buffer.ts';
import type { HeaderMap } from './header-map.ts';
import type { Pair } from './pairs.ts';
import type { StreamType } from './types.ts';
import type { Vm } from './vm.ts';
import type { Plugin } from './plugin.ts';

/**
 * A property's bytes: a Buffer, or a string standing for its latin1 bytes (written straight
 * into guest memory, without building a Buffer first; most attributes are strings).
 */
export type PropertyValue = Buffer | string;

export interface LocalReply {
  status: number;
  details: string;
  body: Buffer;
  headers: Pair[];
  /** 0..16 makes it a gRPC reply; anything else is plain HTTP. */
  grpcStatus: number;
}

/** What a stream context needs from the proxy. Implemented per request and filter by src/proxy. */
export interface StreamHost {
  /**
   * A header map of this stream, or undefined when it does not exist (yet). With `write`, the
   * map the filter may modify now (trailers may be created on demand), or undefined.
   */
  headerMap(type: number, write: boolean): HeaderMap | undefined;
  /** The body currently exposed to this filter (HTTP_REQUEST_BODY / HTTP_RESPONSE_BODY). */
  body(type: number): BodyBuffer | undefined;
  /** Stream attributes (request.*, response.*, source.*, ...); undefined = not found. */
  property(path: readonly string[]): PropertyValue | undefined;
  /**
   * Values written with proxy_set_property, visible to later filters of the same request; false
   * when the stream's store is full and the value was dropped.
   */
  setProperty(path: readonly string[], value: Buffer): boolean;
  continueStream(type: StreamType): void;
  closeStream(type: StreamType): void;
  sendLocalResponse(reply: LocalReply): void;
  /** The filter asked for a local reply the host refused (BAD_ARGUMENT): a bad status or header. */
  localResponseRefused?(): void;
  /**
   * The VM of this stream's context failed (called after the failing step). A stream the filter
   * was holding, e.g. until an http_call answer the trapping callback should have handled,
   * would otherwise wait forever.
   */
  vmFailed?(): void;
}

/**
 * A context host functions act on: a plugin's root context or one of its stream contexts. Two
 * classes with the same fields, not a base class and two subclasses: a subclass's super() call
 * went through V8's generic Construct builtin, which TurboFan did not inline (~200 instructions
 * for every stream context, one per filter per request; `npm run bench:instructions -- --only
 * sluice-3 --profile invoke`). Both have id, tableSlot, vm, plugin, root, logger and stream.
 */
export type Context = RootContext | StreamContext;

/** Response of an http_call, readable only while proxy_on_http_call_response runs. */
export interface HttpCallResult {
  headers: HeaderMap;
  body: BodyBuffer;
  trailers: HeaderMap;
}

/** What a gRPC callback is delivering: buffer 5 during on_grpc_receive, map 4 or 5 during the metadata callbacks. */
export interface GrpcReceived {
  message?: Buffer;
  initialMetadata?: HeaderMap;
  trailingMetadata?: HeaderMap;
}

export class RootContext {
  readonly id: number;
  /** Always -1: root contexts are kept by id (ContextTable), not in the stream array. */
  tableSlot = -1;
  readonly vm: Vm;
  readonly plugin: Plugin;
  /** (code, message) read by proxy_get_status: set while a failed call or a gRPC close is delivered. */
  status: { code: number; message: string } = { code: 0, message: '' };
  callResult: HttpCallResult | null = null;
  grpcReceived: GrpcReceived | null = null;
  /** True between proxy_on_done returning false and proxy_done. */
  pendingDone = false;

  constructor(vm: Vm, plugin: Plugin, id: number) {
    this.vm = vm;
    this.plugin = plugin;
    this.id = id;
  }

  get root(): RootContext {
    return this.plugin.root;
  }

  get logger(): Logger {
    return this.plugin.logger;
  }

  /** Root contexts belong to no stream. */
  get stream(): undefined {
    return undefined;
  }
}

export class StreamContext {
  readonly id: number;
  /** Position among the VM's live stream contexts (ContextTable); -1 when not there. */
  tableSlot = -1;
  readonly vm: Vm;
  readonly plugin: Plugin;
  readonly host: StreamHost;
  /** Set after proxy_on_delete; the guest no longer knows this id. */
  deleted = false;

  constructor(vm: Vm, plugin: Plugin, id: number, host: StreamHost) {
    this.vm = vm;
    this.plugin = plugin;
    this.id = id;
    this.host = host;
  }

  get root(): RootContext {
    return this.plugin.root;
  }

  get logger(): Logger {
    return this.plugin.logger;
  }

  get stream(): StreamHost {
    return this.host;
  }
}
