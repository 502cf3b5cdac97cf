// body-rewrite: buffers a request and/or response body until the end of the
// stream, then applies literal search-and-replace pairs to it.
//
// Configuration (every key optional):
//   {"request":  {"replace": [["from", "to"], ...]},
//    "response": {"replace": [["from", "to"], ...]},
//    "content_types": ["text/", "application/json"]}
// With content_types, only bodies whose content-type starts with one of the
// prefixes (case-insensitively) are touched.
export * from "../lib/abi-lifecycle"; // the Proxy-Wasm ABI exports, then the callbacks it implements
export * from "../lib/callbacks/request-headers";
export * from "../lib/callbacks/response-headers";
export * from "../lib/callbacks/request-body";
export * from "../lib/callbacks/response-body";
import { RecycledContext } from "../lib/stream";
import { RootContext, Context, FilterHeadersStatusValues, FilterDataStatusValues } from "@solo-io/proxy-runtime";
import { BufferTypeValues, HeaderMapTypeValues, WasmResultValues } from "@solo-io/proxy-runtime/runtime";
import { JsonValue } from "../lib/json";
import { ConfigReader, loadConfiguration } from "../lib/config";
import { readBuffer, writeBuffer } from "../lib/buffer";
import { logDebug, logError } from "../lib/log";
import { byteListRecordSize, encodeByteList, freeValue, readHeaderRaw, rootAddress, valueLength } from "../lib/raw";
import { registerFilter } from "../lib/register";
import { replaceAllBytes } from "./replace";

const FILTER = "body-rewrite";

// Replacement pairs for one direction, pre-encoded as UTF-8 bytes.
class Rewrites {
  search: Array<ArrayBuffer> = [];
  replacement: Array<ArrayBuffer> = [];

  isEmpty(): bool {
    return this.search.length == 0;
  }
}

class RewriteConfig {
  request: Rewrites = new Rewrites();
  response: Rewrites = new Rewrites();
  // Lower-cased prefixes; null means "any content type, or none".
  contentTypes: Array<string> | null = null;
  // The same prefixes UTF-8 encoded once, for matching without decoding the header per request.
  contentTypeBytes: Array<ArrayBuffer> = [];
  // contentTypeBytes as one block for the per-response check (lib/raw.ts).
  contentTypeList: ArrayBuffer = new ArrayBuffer(0);
}

const CONTENT_TYPE = String.UTF8.encode("content-type");
const CONTENT_TYPE_KEY = changetype<usize>(CONTENT_TYPE);
const CONTENT_TYPE_LENGTH = <usize>CONTENT_TYPE.byteLength;

// ---- configuration --------------------------------------------------------

function parseConfig(root: JsonValue): RewriteConfig | null {
  const reader = new ConfigReader(FILTER);
  reader.allowKeys(root, "", ["request", "response", "content_types"]);
  const config = new RewriteConfig();
  config.request = parseRewrites(reader, root, "request");
  config.response = parseRewrites(reader, root, "response");
  if (reader.array(root, "content_types", "") !== null) {
    const prefixes = reader.stringList(root, "content_types", "", []);
    const lowered = new Array<string>();
    for (let i = 0; i < prefixes.length; i++) {
      lowered.push(prefixes[i].toLowerCase());
      config.contentTypeBytes.push(String.UTF8.encode(lowered[i]));
    }
    config.contentTypes = lowered;
    config.contentTypeList = encodeByteList(config.contentTypeBytes);
  }
  if (!reader.ok) return null;
  return config;
}

function parseRewrites(reader: ConfigReader, root: JsonValue, section: string): Rewrites {
  const rewrites = new Rewrites();
  const obj = reader.object(root, section, "");
  if (obj === null) return rewrites;
  reader.allowKeys(obj, section, ["replace"]);
  const pairs = reader.array(obj, "replace", section);
  if (pairs === null) return rewrites;
  for (let i = 0; i < pairs.items.length; i++) {
    readPair(reader, pairs.items[i], section + ".replace[" + i.toString() + "]", rewrites);
  }
  return rewrites;
}

// One ["from", "to"] pair. An empty "from" would match everywhere, so it is
// rejected rather than guessed at.
function readPair(reader: ConfigReader, pair: JsonValue, path: string, rewrites: Rewrites): void {
  if (!pair.isArray() || pair.items.length != 2 || !pair.items[0].isString() || !pair.items[1].isString()) {
    reader.fail(path, "must be a [\"from\", \"to\"] pair of strings");
    return;
  }
  const from = pair.items[0].text;
  if (from.length == 0) {
    reader.fail(path, "has an empty \"from\" string");
    return;
  }
  rewrites.search.push(String.UTF8.encode(from));
  rewrites.replacement.push(String.UTF8.encode(pair.items[1].text));
}

// ---- rewriting ----------------------------------------------------------------

// Whether a body with this content-type should be rewritten. Runs for every response, so it
// reads only plain fields of the root (set in onConfigure) and retains nothing.
function contentTypeMatches(root: usize, map: HeaderMapTypeValues): bool {
  if (changetype<RewriteRoot>(root).anyContentType) return true;
  const value = readHeaderRaw(map, CONTENT_TYPE_KEY, CONTENT_TYPE_LENGTH);
  if (value == 0) return false;
  const length = valueLength();
  let p = changetype<RewriteRoot>(root).prefixes;
  const end = changetype<RewriteRoot>(root).prefixesEnd;
  let found = false;
  while (p < end && !found) {
    const prefixLength = load<u32>(p);
    found = startsWithIgnoringCase(value, length, p + 4, prefixLength);
    p += byteListRecordSize(prefixLength);
  }
  freeValue(value);
  return found;
}

// Whether `value` starts with `prefix` (lower case), folding A-Z in `value`: media types are
// ASCII tokens, so this matches what lower-casing the decoded header did, with no string made.
function startsWithIgnoringCase(value: usize, length: u32, prefix: usize, prefixLength: u32): bool {
  if (length < prefixLength) return false;
  for (let i: usize = 0; i < <usize>prefixLength; i++) {
    let b = load<u8>(value + i);
    if (b >= 65 && b <= 90) b |= 0x20;
    if (b != load<u8>(prefix + i)) return false;
  }
  return true;
}

// Rewrites the whole buffered body in place (one set_buffer_bytes call
// replacing all `size` bytes); the host recomputes content-length.
function rewriteBody(buffer: BufferTypeValues, size: u32, rewrites: Rewrites, label: string): void {
  if (size == 0) {
    logDebug(FILTER, "empty " + label + " body, nothing to rewrite");
    return;
  }
  let body = readBuffer(buffer, size);
  let count = 0;
  for (let i = 0; i < rewrites.search.length; i++) {
    const replaced = replaceAllBytes(body, rewrites.search[i], rewrites.replacement[i]);
    body = replaced.data;
    count += replaced.count;
  }
  if (count == 0) {
    logDebug(FILTER, "no matches in " + label + " body (" + size.toString() + " bytes)");
    return;
  }
  const result = writeBuffer(buffer, 0, size, body);
  if (result != WasmResultValues.Ok) {
    logError(FILTER, "could not write the " + label + " body (result " + result.toString() + ")");
    return;
  }
  logDebug(FILTER, "made " + count.toString() + " replacements in " + label + " body (" + size.toString() +
    " -> " + body.byteLength.toString() + " bytes)");
}

// ---- contexts -------------------------------------------------------------

class RewriteRoot extends RootContext {
  config: RewriteConfig = new RewriteConfig();
  // What every stream reads from the configuration, as plain values and addresses into
  // `config` (which keeps them alive): see contentTypeMatches.
  rewritesRequest: bool = false;
  rewritesResponse: bool = false;
  anyContentType: bool = true;
  prefixes: usize = 0;
  prefixesEnd: usize = 0;

  createContext(context_id: u32): Context {
    return new RewriteStream(context_id, this);
  }

  // Deliberately does not call super.onConfigure (see lib/config.ts).
  onConfigure(configuration_size: u32): bool {
    const json = loadConfiguration(FILTER, configuration_size);
    if (json === null) return false;
    const config = parseConfig(json);
    if (config === null) return false;
    this.config = config;
    this.rewritesRequest = !config.request.isEmpty();
    this.rewritesResponse = !config.response.isEmpty();
    this.anyContentType = config.contentTypes === null;
    this.prefixes = changetype<usize>(config.contentTypeList);
    this.prefixesEnd = this.prefixes + <usize>config.contentTypeList.byteLength;
    let message = "configured: " + config.request.search.length.toString() + " request and " +
      config.response.search.length.toString() + " response replacements";
    const types = config.contentTypes;
    if (types !== null) message += ", content types [" + types.join(", ") + "]";
    logDebug(FILTER, message);
    return true;
  }
}

class RewriteStream extends RecycledContext {
  // Decided from the headers: whether each body is buffered and rewritten.
  rewriteRequest: bool = false;
  rewriteResponse: bool = false;

  constructor(context_id: u32, root: RewriteRoot) {
    super(context_id, root);
    this.reset();
  }

  reset(): void {
    this.rewriteRequest = false;
    this.rewriteResponse = false;
  }

  config(): RewriteConfig {
    return changetype<RewriteRoot>(this.root_context).config;
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = rootAddress(changetype<usize>(this));
    this.rewriteRequest = changetype<RewriteRoot>(root).rewritesRequest && contentTypeMatches(root, HeaderMapTypeValues.RequestHeaders);
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = rootAddress(changetype<usize>(this));
    this.rewriteResponse = changetype<RewriteRoot>(root).rewritesResponse && contentTypeMatches(root, HeaderMapTypeValues.ResponseHeaders);
    return FilterHeadersStatusValues.Continue;
  }

  onRequestBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    if (!this.rewriteRequest) return FilterDataStatusValues.Continue;
    if (!end_of_stream) return FilterDataStatusValues.StopIterationAndBuffer;
    rewriteBody(BufferTypeValues.HttpRequestBody, <u32>body_buffer_length, this.config().request, "request");
    return FilterDataStatusValues.Continue;
  }

  onResponseBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    if (!this.rewriteResponse) return FilterDataStatusValues.Continue;
    if (!end_of_stream) return FilterDataStatusValues.StopIterationAndBuffer;
    rewriteBody(BufferTypeValues.HttpResponseBody, <u32>body_buffer_length, this.config().response, "response");
    return FilterDataStatusValues.Continue;
  }
}

function createRoot(context_id: u32): RootContext {
  return new RewriteRoot(context_id);
}

registerFilter(FILTER, createRoot);
