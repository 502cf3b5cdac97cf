// Foreign functions: named host functions a guest reaches through proxy_call_foreign_function.
// One registry per proxy; an application embedding sluice registers its own next to the
// built-in `compress` / `uncompress` (Envoy's, zlib RFC 1950 format).
//
// A function answers synchronously (bytes, or a status with optional bytes), or returns a
// Promise: the guest then gets OK with an empty result at once, and the bytes later through
// proxy_on_foreign_function(root_context_id, function_id, size) with buffer 8
// (FOREIGN_FUNCTION_ARGUMENTS) readable during that callback — Kong's `resolve_lua` shape.

import { deflateSync, inflateSync } from 'node:zlib';
import type { Logger } from 'pino';
import { Status } from './types.ts';

/** What a foreign function knows about its caller. */
export interface ForeignCallContext {
  /** The configured filter (plugin) whose guest called. */
  readonly filter: string;
  readonly rootId: string;
  readonly vmId: string;
  /** The context the call acts on (root or stream context id). */
  readonly contextId: number;
  /** The id the guest will see in proxy_on_foreign_function if the function answers later. */
  readonly functionId: number;
  /** The calling plugin's logger. */
  readonly logger: Logger;
}

/**
 * A synchronous answer: bytes mean OK with that result; an object carries any status (the
 * result is handed to the guest only with OK). A Promise makes the call asynchronous.
 */
export type ForeignResult = Buffer | Uint8Array | { status: Status; result?: Uint8Array };

export type ForeignFunction = (args: Buffer, ctx: ForeignCallContext) => ForeignResult | Promise<Uint8Array>;

export interface RegisteredForeignFunction {
  readonly name: string;
  /** Passed back to the guest with an asynchronous result (function_id). */
  readonly id: number;
  readonly fn: ForeignFunction;
}

export interface RegisterOptions {
  /** The function_id for asynchronous results; default: the next unused id (0, 1, 2, ...). */
  id?: number;
}

export class ForeignFunctionRegistry {
  readonly #functions = new Map<string, RegisteredForeignFunction>();
  #nextId = 0;

  /** A registry with the built-in functions (`compress`, `uncompress`) unless told otherwise. */
  constructor(options: { builtins?: boolean } = {}) {
    if (options.builtins !== false) {
      this.register('compress', compress);
      this.register('uncompress', uncompress);
    }
  }

  /** Adds or replaces a function. Names are matched exactly (bytes as UTF-8). */
  register(name: string, fn: ForeignFunction, options: RegisterOptions = {}): this {
    const id = options.id ?? this.#nextId;
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) throw new RangeError(`foreign function id must be a u32 (got ${id})`);
    this.#nextId = Math.max(this.#nextId, id + 1);
    this.#functions.set(name, { name, id, fn });
    return this;
  }

  unregister(name: string): boolean {
    return this.#functions.delete(name);
  }

  get(name: string): RegisteredForeignFunction | undefined {
    return this.#functions.get(name);
  }

  names(): string[] {
    return [...this.#functions.keys()];
  }
}

/** zlib format (RFC 1950), as Envoy's `compress`. */
function compress(args: Buffer): ForeignResult {
  try {
    return deflateSync(args);
  } catch {
    return { status: Status.SERIALIZATION_FAILURE };
  }
}

/** Largest output `uncompress` produces: a small input must not make the proxy allocate gigabytes. */
export const MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;

/**
 * Input that is not zlib data answers SERIALIZATION_FAILURE, as Envoy's `uncompress`; so does
 * output beyond MAX_UNCOMPRESSED_BYTES (Envoy has no limit).
 */
function uncompress(args: Buffer): ForeignResult {
  try {
    return inflateSync(args, { maxOutputLength: MAX_UNCOMPRESSED_BYTES });
  } catch {
    return { status: Status.SERIALIZATION_FAILURE };
  }
}
