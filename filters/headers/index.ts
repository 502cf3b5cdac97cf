// headers: adds, replaces and removes request and response headers.
//
// Configuration (every section optional):
//   {"request":  {"add": {"k": "v"}, "set": {"k": "v"}, "remove": ["k"]},
//    "response": {"add": {...},      "set": {...},      "remove": [...]}}
// Edits apply in the order remove, set (replace), add (append a value).
export * from "../lib/abi-lifecycle"; // the Proxy-Wasm ABI exports, then the callbacks it implements
export * from "../lib/callbacks/request-headers";
export * from "../lib/callbacks/response-headers";
import { RecycledContext } from "../lib/stream";
import { RootContext, Context, FilterHeadersStatusValues } from "@solo-io/proxy-runtime";
import { HeaderMapTypeValues, WasmResultValues } from "@solo-io/proxy-runtime/runtime";
import { JsonValue } from "../lib/json";
import { ConfigReader, loadConfiguration } from "../lib/config";
import * as imports from "@solo-io/proxy-runtime/imports";
import { logDebug, logError } from "../lib/log";
import { registerFilter } from "../lib/register";

const FILTER = "headers";

// The edits for one direction. Names are lower-cased once at load time:
// header maps are case-insensitive and HTTP/2 requires lower case anyway.
class HeaderEdits {
  remove: Array<string> = [];
  setNames: Array<string> = [];
  setValues: Array<string> = [];
  addNames: Array<string> = [];
  addValues: Array<string> = [];
  // The same edits, in the order they apply, encoded once at load time as one block of records
  // (see encode). Walking it costs a request the host calls and nothing else: no allocation,
  // and none of the retain/release pairs AssemblyScript 0.17 puts around every element read
  // from an Array of references.
  program: ArrayBuffer = new ArrayBuffer(0);

  // Records of [op u32][name length u32][value length u32][name][value], each 4-byte aligned.
  encode(): void {
    const names = new Array<ArrayBuffer>();
    const values = new Array<ArrayBuffer>();
    const ops = new Array<u32>();
    const empty = new ArrayBuffer(0);
    for (let i = 0; i < this.remove.length; i++) {
      ops.push(OP_REMOVE);
      names.push(String.UTF8.encode(this.remove[i]));
      values.push(empty);
    }
    for (let i = 0; i < this.setNames.length; i++) {
      ops.push(OP_SET);
      names.push(String.UTF8.encode(this.setNames[i]));
      values.push(String.UTF8.encode(this.setValues[i]));
    }
    for (let i = 0; i < this.addNames.length; i++) {
      ops.push(OP_ADD);
      names.push(String.UTF8.encode(this.addNames[i]));
      values.push(String.UTF8.encode(this.addValues[i]));
    }
    let size = 0;
    for (let i = 0; i < ops.length; i++) size += recordSize(names[i].byteLength, values[i].byteLength);
    const program = new ArrayBuffer(size);
    let p = changetype<usize>(program);
    for (let i = 0; i < ops.length; i++) {
      const name = names[i];
      const value = values[i];
      store<u32>(p, ops[i]);
      store<u32>(p, name.byteLength, 4);
      store<u32>(p, value.byteLength, 8);
      memory.copy(p + RECORD_HEADER, changetype<usize>(name), name.byteLength);
      memory.copy(p + RECORD_HEADER + name.byteLength, changetype<usize>(value), value.byteLength);
      p += recordSize(name.byteLength, value.byteLength);
    }
    this.program = program;
  }

  isEmpty(): bool {
    return this.program.byteLength == 0;
  }
}

const OP_REMOVE: u32 = 0;
const OP_SET: u32 = 1;
const OP_ADD: u32 = 2;
const RECORD_HEADER: usize = 12;

function recordSize(nameLength: i32, valueLength: i32): i32 {
  return (<i32>RECORD_HEADER + nameLength + valueLength + 3) & ~3;
}

class HeadersConfig {
  request: HeaderEdits = new HeaderEdits();
  response: HeaderEdits = new HeaderEdits();
}

// ---- configuration --------------------------------------------------------

function parseConfig(root: JsonValue): HeadersConfig | null {
  const reader = new ConfigReader(FILTER);
  reader.allowKeys(root, "", ["request", "response"]);
  const config = new HeadersConfig();
  config.request = parseEdits(reader, root, "request");
  config.response = parseEdits(reader, root, "response");
  // Not `reader.ok ? config : null`: AssemblyScript 0.17 forgets to retain a
  // local returned through a ternary, handing back a freed object.
  if (!reader.ok) return null;
  return config;
}

function parseEdits(reader: ConfigReader, root: JsonValue, section: string): HeaderEdits {
  const edits = new HeaderEdits();
  const obj = reader.object(root, section, "");
  if (obj === null) return edits;
  reader.allowKeys(obj, section, ["add", "set", "remove"]);
  const remove = reader.stringList(obj, "remove", section, []);
  for (let i = 0; i < remove.length; i++) {
    if (!isHeaderName(remove[i])) reader.fail(section + ".remove[" + i.toString() + "]", "is not a valid header name");
    edits.remove.push(remove[i].toLowerCase());
  }
  readHeaderMap(reader, obj, "set", section, edits.setNames, edits.setValues, false);
  readHeaderMap(reader, obj, "add", section, edits.addNames, edits.addValues, true);
  edits.encode();
  return edits;
}

// Reads {"name": value} into parallel name/value lists. Numbers and booleans
// are accepted as their text (YAML turns `x-version: 2` into a number); for
// "add", an array of values appends the header once per value.
function readHeaderMap(reader: ConfigReader, section: JsonValue, key: string, path: string,
  names: Array<string>, values: Array<string>, allowList: bool): void {
  const obj = reader.object(section, key, path);
  if (obj === null) return;
  const where = path + "." + key;
  for (let i = 0; i < obj.keys.length; i++) {
    const name = obj.keys[i].toLowerCase();
    const value = obj.values[i];
    if (allowList && value.isArray()) {
      for (let j = 0; j < value.items.length; j++) {
        pushScalar(reader, where + "." + name + "[" + j.toString() + "]", value.items[j], name, names, values);
      }
    } else {
      pushScalar(reader, where + "." + name, value, name, names, values);
    }
  }
}

function pushScalar(reader: ConfigReader, path: string, value: JsonValue, name: string,
  names: Array<string>, values: Array<string>): void {
  if (!value.isString() && !value.isNumber() && !value.isBool()) {
    reader.fail(path, "must be a string, got " + value.kindName());
    return;
  }
  if (!isHeaderName(name)) {
    reader.fail(path, "is not a valid header name");
    return;
  }
  const text = value.scalarText();
  if (!isHeaderValue(text)) {
    reader.fail(path, "has a control character (CR, LF, NUL, ...) HTTP does not allow in a value");
    return;
  }
  names.push(name);
  values.push(text);
}

// What HTTP can carry (the host refuses anything else with BAD_ARGUMENT): a name is a token,
// or ':' and a token for a pseudo-header; a value has no control characters but HTAB.
const TOKEN_PUNCTUATION = "!#$%&'*+-.^_`|~";

function isHeaderName(name: string): bool {
  let i = name.length > 1 && name.charCodeAt(0) == 58 ? 1 : 0;
  if (i == name.length) return false;
  for (; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum && TOKEN_PUNCTUATION.indexOf(String.fromCharCode(c)) < 0) return false;
  }
  return true;
}

function isHeaderValue(value: string): bool {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 ? c != 9 : c == 127) return false;
  }
  return true;
}

// ---- applying edits -------------------------------------------------------

// Applies one direction's edits (remove, set, add, in that order).
function applyEdits(map: HeaderMapTypeValues, program: ArrayBuffer, label: string): void {
  let p = changetype<usize>(program);
  const end = p + <usize>program.byteLength;
  while (p < end) {
    const op = load<u32>(p);
    const nameLength = load<u32>(p, 4);
    const valueLength = load<u32>(p, 8);
    const name = p + RECORD_HEADER;
    const value = name + nameLength;
    let result: WasmResultValues;
    if (op == OP_REMOVE) result = imports.proxy_remove_header_map_value(map, name, nameLength) as WasmResultValues;
    else if (op == OP_SET) result = imports.proxy_replace_header_map_value(map, name, nameLength, value, valueLength) as WasmResultValues;
    else result = imports.proxy_add_header_map_value(map, name, nameLength, value, valueLength) as WasmResultValues;
    if (result != WasmResultValues.Ok) {
      const what = op == OP_REMOVE ? "remove" : op == OP_SET ? "set" : "add";
      logError(FILTER, "could not " + what + " " + label + " header " + String.UTF8.decodeUnsafe(name, nameLength) +
        " (result " + result.toString() + ")");
    }
    p += <usize>recordSize(nameLength, valueLength);
  }
}

// ---- contexts -------------------------------------------------------------

class HeadersRoot extends RootContext {
  config: HeadersConfig = new HeadersConfig();

  createContext(context_id: u32): Context {
    return new HeadersStream(context_id, this);
  }

  // Deliberately does not call super.onConfigure (see lib/config.ts).
  onConfigure(configuration_size: u32): bool {
    const json = loadConfiguration(FILTER, configuration_size);
    if (json === null) return false;
    const config = parseConfig(json);
    if (config === null) return false;
    this.config = config;
    logDebug(FILTER, "configured: request " + describe(config.request) + "; response " + describe(config.response));
    return true;
  }
}

function describe(edits: HeaderEdits): string {
  if (edits.isEmpty()) return "no edits";
  return edits.remove.length.toString() + " remove, " + edits.setNames.length.toString() + " set, " +
    edits.addNames.length.toString() + " add";
}

// No per-stream state: reset() has nothing to do.
class HeadersStream extends RecycledContext {
  constructor(context_id: u32, root: HeadersRoot) {
    super(context_id, root);
  }

  config(): HeadersConfig {
    return changetype<HeadersRoot>(this.root_context).config;
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    applyEdits(HeaderMapTypeValues.RequestHeaders, this.config().request.program, "request");
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    applyEdits(HeaderMapTypeValues.ResponseHeaders, this.config().response.program, "response");
    return FilterHeadersStatusValues.Continue;
  }
}

function createRoot(context_id: u32): RootContext {
  return new HeadersRoot(context_id);
}

registerFilter(FILTER, createRoot);
