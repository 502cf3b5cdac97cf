// The listeners' request class: node:http's IncomingMessage, except that `req.headers` is built
// only when something needs more of it than one header. Node's server reads `req.headers.host`
// and `req.headers.expect` for every HTTP/1.1 request, and the first read builds an object of
// every header (names lower-cased, duplicates joined): ~4.9k instructions per request on the
// serving thread (callgrind, 2026-12-02), for an object sluice never reads (it works from
// `rawHeaders`, src/proxy/headers.ts). Here `req.headers` is a view that answers a read of one
// header that occurs once straight from `rawHeaders`, and for anything else (a repeated header,
// set-cookie, listing the keys, writing) builds Node's own object and defers to it, so every
// reader sees what Node would have given it.

import type { IncomingHttpHeaders, IncomingMessage as NodeIncomingMessage } from 'node:http';

const { IncomingMessage } = process.getBuiltinModule('node:http');
const nodeHeaders = Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'headers')!;
const NOT_SIMPLE = Symbol('not simple');
const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** Names every object inherits (`toString`, `constructor`, ...): Node's object answers those. */
const INHERITED: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * The value of header `name` when it occurs at most once in `raw` (names compared ignoring ASCII
 * case, as Node lower-cases them; a key with upper-case letters is absent, as in Node's object);
 * NOT_SIMPLE when Node's own rules decide: a repeat, set-cookie (an array), or a name every
 * object inherits.
 */
export function singleHeader(raw: readonly string[], name: string): string | undefined | typeof NOT_SIMPLE {
  if (name === 'set-cookie' || INHERITED.has(name)) return NOT_SIMPLE;
  const len = name.length;
  let found: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const candidate = raw[i]!;
    if (candidate.length !== len) continue;
    let j = 0;
    for (; j < len; j++) {
      let c = candidate.charCodeAt(j);
      if (c >= 65 && c <= 90) c |= 0x20;
      if (c !== name.charCodeAt(j)) break;
    }
    if (j !== len) continue;
    if (found !== undefined) return NOT_SIMPLE;
    found = raw[i + 1]!;
  }
  return found;
}

const TARGET = Symbol('headers view target');

/**
 * The Proxy's target: the request and, once needed, Node's own object. The handler below is
 * shared by every request, so a view costs these two objects and nothing more.
 */
class HeadersTarget {
  readonly req: NodeIncomingMessage;
  built: IncomingHttpHeaders | null = null;

  constructor(req: NodeIncomingMessage) {
    this.req = req;
  }

  /** Read through the view too (the handler answers it), for the inspect hook below. */
  get [TARGET](): HeadersTarget {
    return this;
  }

  // util.inspect shows a Proxy's target without calling its traps, but asks the target for a
  // custom view (calling it on the Proxy): console.log(req.headers) prints the headers, not this.
  [INSPECT](): IncomingHttpHeaders {
    return full(this[TARGET]);
  }
}

const full = (t: HeadersTarget): IncomingHttpHeaders => (t.built ??= nodeHeaders.get!.call(t.req) as IncomingHttpHeaders);

const VIEW_HANDLER: ProxyHandler<HeadersTarget> = {
  get(t, key) {
    if (key === TARGET) return t;
    if (t.built === null && typeof key === 'string') {
      const value = singleHeader(t.req.rawHeaders, key);
      if (value !== NOT_SIMPLE) return value;
    }
    return Reflect.get(full(t), key);
  },
  has: (t, key) => Reflect.has(full(t), key),
  ownKeys: (t) => Reflect.ownKeys(full(t)),
  getOwnPropertyDescriptor: (t, key) => Reflect.getOwnPropertyDescriptor(full(t), key),
  set: (t, key, value) => Reflect.set(full(t), key, value),
  deleteProperty: (t, key) => Reflect.deleteProperty(full(t), key),
  defineProperty: (t, key, descriptor) => Reflect.defineProperty(full(t), key, descriptor),
  getPrototypeOf: (t) => Reflect.getPrototypeOf(full(t)),
};

/** `req.headers` as a view over `req.rawHeaders` that builds Node's object only when needed. */
function headersView(req: NodeIncomingMessage): IncomingHttpHeaders {
  return new Proxy(new HeadersTarget(req), VIEW_HANDLER) as unknown as IncomingHttpHeaders;
}

const VIEW = Symbol('headers view');

/** For `createServer({ IncomingMessage: RawHeadersMessage })`. */
export class RawHeadersMessage extends IncomingMessage {
  [VIEW]: IncomingHttpHeaders | undefined = undefined;
}

// An accessor, as on Node's prototype (TypeScript declares `headers` a plain property).
Object.defineProperty(RawHeadersMessage.prototype, 'headers', {
  configurable: true,
  enumerable: nodeHeaders.enumerable,
  get(this: RawHeadersMessage): IncomingHttpHeaders {
    return (this[VIEW] ??= headersView(this));
  },
  set(this: RawHeadersMessage, value: IncomingHttpHeaders) {
    this[VIEW] = value;
  },
});
