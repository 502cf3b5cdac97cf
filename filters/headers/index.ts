// headers: adds, replaces and removes request and response headers.
//
// Configuration (every section optional):
//   {"request":  {"add": {"k": "v"}, "set": {"k": "v"}, "remove": ["k"]},
//    "response": {"add": {...},      "set": {...},      "remove": [...]}}
// Edits apply in the order remove, set (replace), add (append a value).
export * from "../lib/abi"; // the Proxy-Wasm ABI exports
import { QuietContext } from "../lib/stream";
import { RootContext, Context, FilterHeadersStatusValues } from "@solo-io/proxy-runtime";
import { HeaderMapTypeValues, WasmResultValues } from "@solo-io/proxy-runtime/runtime";
import { JsonValue } from "../lib/json";
import { ConfigReader, loadConfiguration } from "../lib/config";
import { addHeaderRaw, removeHeaderRaw, replaceHeaderRaw } from "../lib/headers";
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
  // The same, UTF-8 encoded once at load time: applying edits then allocates nothing.
  removeBytes: Array<ArrayBuffer> = [];
  setNameBytes: Array<ArrayBuffer> = [];
  setValueBytes: Array<ArrayBuffer> = [];
  addNameBytes: Array<ArrayBuffer> = [];
  addValueBytes: Array<ArrayBuffer> = [];

  encode(): void {
    for (let i = 0; i < this.remove.length; i++) this.removeBytes.push(String.UTF8.encode(this.remove[i]));
    for (let i = 0; i < this.setNames.length; i++) {
      this.setNameBytes.push(String.UTF8.encode(this.setNames[i]));
      this.setValueBytes.push(String.UTF8.encode(this.setValues[i]));
    }
    for (let i = 0; i < this.addNames.length; i++) {
      this.addNameBytes.push(String.UTF8.encode(this.addNames[i]));
      this.addValueBytes.push(String.UTF8.encode(this.addValues[i]));
    }
  }

  isEmpty(): bool {
    return this.remove.length == 0 && this.setNames.length == 0 && this.addNames.length == 0;
  }
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
  for (let i = 0; i < remove.length; i++) edits.remove.push(remove[i].toLowerCase());
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
  names.push(name);
  values.push(value.scalarText());
}

// ---- applying edits -------------------------------------------------------

// Applies remove, set, add in that order and returns a summary for the log.
function applyEdits(map: HeaderMapTypeValues, edits: HeaderEdits, label: string): void {
  for (let i = 0; i < edits.removeBytes.length; i++) {
    check(removeHeaderRaw(map, edits.removeBytes[i]), "remove", label, edits.remove[i]);
  }
  for (let i = 0; i < edits.setNameBytes.length; i++) {
    check(replaceHeaderRaw(map, edits.setNameBytes[i], edits.setValueBytes[i]), "set", label, edits.setNames[i]);
  }
  for (let i = 0; i < edits.addNameBytes.length; i++) {
    check(addHeaderRaw(map, edits.addNameBytes[i], edits.addValueBytes[i]), "add", label, edits.addNames[i]);
  }
}

function check(result: WasmResultValues, op: string, label: string, name: string): void {
  if (result != WasmResultValues.Ok) {
    logError(FILTER, "could not " + op + " " + label + " header " + name + " (result " + result.toString() + ")");
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

class HeadersStream extends QuietContext {
  constructor(context_id: u32, root: HeadersRoot) {
    super(context_id, root);
  }

  config(): HeadersConfig {
    return changetype<HeadersRoot>(this.root_context).config;
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const edits = this.config().request;
    if (!edits.isEmpty()) applyEdits(HeaderMapTypeValues.RequestHeaders, edits, "request");
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const edits = this.config().response;
    if (!edits.isEmpty()) applyEdits(HeaderMapTypeValues.ResponseHeaders, edits, "response");
    return FilterHeadersStatusValues.Continue;
  }
}

function createRoot(context_id: u32): RootContext {
  return new HeadersRoot(context_id);
}

registerFilter(FILTER, createRoot);
