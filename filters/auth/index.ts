// auth: authorization in one of two modes.
//
// Service mode: every request is paused while a GET is sent to an
// authorization service (proxy_http_call); a 200 lets the request through,
// anything else is answered locally with a denial.
//   {"cluster": "authz", "path": "/check",
//    "authority": "authz",                  optional, default = cluster
//    "timeout_ms": 1000,                    optional
//    "forward_headers": ["authorization"],  optional
//    "deny_status": 403, "deny_body": "forbidden\n"}  optional
//
// Static mode: one request header is compared with a fixed list of allowed
// values, inside the filter, without pausing and without any call. A header
// sent more than once is compared as all its values joined with ",", so it
// is denied (x-auth-denied: repeated) unless that whole list is allowed.
//   {"allow": {"header": "authorization", "values": ["Bearer s3cret"]},
//    "deny_status": 401, "deny_body": "unauthorized\n"}  optional
export * from "../lib/abi-lifecycle"; // the Proxy-Wasm ABI exports, then the callbacks it implements
export * from "../lib/callbacks/request-headers";
import { RecycledContext } from "../lib/stream";
import {
  RootContext, Context, FilterHeadersStatusValues, GrpcStatusValues, HeaderPair,
  continue_request, send_local_response, stream_context,
} from "@solo-io/proxy-runtime";
import { HeaderMapTypeValues, WasmResultValues } from "@solo-io/proxy-runtime/runtime";
import * as imports from "@solo-io/proxy-runtime/imports";
import { JsonValue } from "../lib/json";
import { ConfigReader, loadConfiguration } from "../lib/config";
import { getHeader, getHeaderBytes, headerPair, pairName, removeHeaderRaw, replaceHeaderBytes } from "../lib/headers";
import { logDebug, logError, logInfo } from "../lib/log";
import { byteListRecordSize, encodeByteList, freeValue, readHeaderRaw, readPropertyRaw, rootAddress, valueLength } from "../lib/raw";
import { registerFilter } from "../lib/register";
import { PendingCalls } from "../lib/http-call";

const FILTER = "auth";
const USER_HEADER = "x-auth-user";
const USER_HEADER_KEY = String.UTF8.encode(USER_HEADER); // removed from every request

class AuthConfig {
  cluster: string = "";
  path: string = "";
  authority: string = "";
  timeoutMs: u32 = 1000;
  forwardHeaders: Array<string> = ["authorization"];
  denyStatus: u32 = 403;
  denyBody: string = "forbidden\n";
  // Static mode (set when `allow` is configured): the lower-cased header name
  // encoded once, and the allowed values as raw bytes.
  allowHeader: string = "";
  allowHeaderKey: ArrayBuffer = new ArrayBuffer(0);
  // The property request.headers.<allowHeader>, as proxy_get_property takes its path.
  allowHeaderPath: ArrayBuffer = new ArrayBuffer(0);
  allowValues: Array<ArrayBuffer> = [];
  // allowValues as one block for the per-request check (lib/raw.ts).
  allowList: ArrayBuffer = new ArrayBuffer(0);

  isStatic(): bool {
    return this.allowHeader.length > 0;
  }
}

// ---- configuration --------------------------------------------------------

// Keys that only mean something when an authorization service is asked.
const SERVICE_KEYS = ["cluster", "path", "authority", "timeout_ms", "forward_headers"];

// Unlike the other filters, an empty configuration is refused: an auth
// filter without a service to ask or values to allow can neither allow nor
// deny meaningfully, and silently letting everything through would be a
// security hole.
function parseConfig(root: JsonValue): AuthConfig | null {
  const reader = new ConfigReader(FILTER);
  reader.allowKeys(root, "", [
    "cluster", "path", "authority", "timeout_ms", "forward_headers", "deny_status", "deny_body", "allow",
  ]);
  const allow = root.get("allow");
  if (allow !== null && !allow.isNull()) return parseStaticConfig(reader, root);
  const config = new AuthConfig();
  config.cluster = reader.string(root, "cluster", "", "", true);
  config.path = reader.string(root, "path", "", "", true);
  config.authority = reader.string(root, "authority", "", config.cluster);
  config.timeoutMs = <u32>reader.integer(root, "timeout_ms", "", 1, 3600000, 1000);
  config.denyStatus = <u32>reader.integer(root, "deny_status", "", 200, 599, 403);
  config.denyBody = reader.string(root, "deny_body", "", "forbidden\n");
  const forward = reader.stringList(root, "forward_headers", "", ["authorization"]);
  config.forwardHeaders = [];
  for (let i = 0; i < forward.length; i++) config.forwardHeaders.push(forward[i].toLowerCase());
  if (config.cluster.length == 0 && reader.ok) reader.fail("cluster", "must not be empty");
  if (config.path.length == 0 && reader.ok) reader.fail("path", "must not be empty");
  if (!reader.ok) return null;
  return config;
}

// Static mode: `allow` plus the denial keys; the service keys are refused
// rather than silently ignored, since they suggest a call that never happens.
function parseStaticConfig(reader: ConfigReader, root: JsonValue): AuthConfig | null {
  for (let i = 0; i < SERVICE_KEYS.length; i++) {
    const key = SERVICE_KEYS[i];
    if (root.get(key) !== null) reader.fail(key, "cannot be combined with allow");
  }
  const config = new AuthConfig();
  config.denyStatus = <u32>reader.integer(root, "deny_status", "", 200, 599, 401);
  config.denyBody = reader.string(root, "deny_body", "", "unauthorized\n");
  const allow = reader.object(root, "allow", "");
  if (allow === null) return null;
  reader.allowKeys(allow, "allow", ["header", "values"]);
  const header = reader.string(allow, "header", "allow", "", true).toLowerCase();
  if (header.length == 0 && reader.ok) reader.fail("allow.header", "must not be empty");
  const values = reader.stringList(allow, "values", "allow", []);
  if (values.length == 0 && reader.ok) reader.fail("allow.values", "must list at least one value");
  for (let i = 0; i < values.length; i++) {
    // An empty value would let requests without the header through.
    if (values[i].length == 0) reader.fail("allow.values[" + i.toString() + "]", "must not be empty");
    config.allowValues.push(String.UTF8.encode(values[i]));
  }
  if (!reader.ok) return null;
  config.allowHeader = header;
  config.allowHeaderKey = String.UTF8.encode(header);
  config.allowHeaderPath = String.UTF8.encode("request\0headers\0" + header);
  config.allowList = encodeByteList(config.allowValues);
  return config;
}

// ---- static mode ------------------------------------------------------------------

// Whether bytes [value, value+length) equal one of the list's entries (lib/raw.ts layout).
// Every byte of a same-length entry is compared, even after a difference, so the time taken
// does not tell a client how much of a secret it guessed right.
function inByteList(value: usize, length: u32, list: usize, end: usize): bool {
  let p = list;
  while (p < end) {
    const entryLength = load<u32>(p);
    if (entryLength == length) {
      let diff: u32 = 0;
      for (let i: usize = 0; i < <usize>length; i++) diff |= <u32>(load<u8>(value + i) ^ load<u8>(p + 4 + i));
      if (diff == 0) return true;
    }
    p += byteListRecordSize(entryLength);
  }
  return false;
}

// The static check, per request: everything it reads is a plain field of the root
// (set in onConfigure), so it retains nothing. The header is read as the property
// request.headers.<name>, every occurrence joined with ",": a header sent twice can then not
// pass as its first occurrence (all proxy_get_header_map_value returns) while the upstream
// reads the other one.
function checkStatic(root: usize): FilterHeadersStatusValues {
  const value = readPropertyRaw(changetype<AuthRoot>(root).allowPath, changetype<AuthRoot>(root).allowPathLength);
  if (value == 0) {
    denyStatic(changetype<AuthRoot>(root).config, "missing");
    return FilterHeadersStatusValues.StopIteration;
  }
  const joinedLength = valueLength();
  const allowed = inByteList(value, joinedLength, changetype<AuthRoot>(root).allowList, changetype<AuthRoot>(root).allowListEnd);
  freeValue(value);
  if (allowed) return FilterHeadersStatusValues.Continue;
  denyStatic(changetype<AuthRoot>(root).config, isRepeated(root, joinedLength) ? "repeated" : "mismatch");
  return FilterHeadersStatusValues.StopIteration;
}

// Whether the header occurs more than once: its first value is shorter than all of them joined.
// Only asked on the way to a denial, to say why.
function isRepeated(root: usize, joinedLength: u32): bool {
  const first = readHeaderRaw(HeaderMapTypeValues.RequestHeaders,
    changetype<AuthRoot>(root).allowKey, changetype<AuthRoot>(root).allowKeyLength);
  const firstLength: u32 = first == 0 ? 0 : valueLength();
  freeValue(first);
  return firstLength < joinedLength;
}

function denyStatic(config: AuthConfig, verdict: string): void {
  sendDenial(config, verdict);
  logInfo(FILTER, "denied request with " + config.denyStatus.toString() + " (header " + config.allowHeader + " " + verdict + ")");
}

// ---- the authorization request ---------------------------------------------

// Headers of the check request: pseudo-headers, the original method/path,
// then every occurrence of each forwarded header present on the request.
// Copied values keep their raw bytes.
function checkRequestHeaders(config: AuthConfig): Array<HeaderPair> {
  const out = new Array<HeaderPair>();
  out.push(headerPair(":method", "GET"));
  out.push(headerPair(":path", config.path));
  out.push(headerPair(":authority", config.authority));
  const request = stream_context.headers.request.get_headers();
  for (let i = 0; i < request.length; i++) {
    const name = pairName(request[i]).toLowerCase();
    let copyAs = "";
    if (name == ":path") copyAs = "x-original-path";
    else if (name == ":method") copyAs = "x-original-method";
    else if (config.forwardHeaders.includes(name)) copyAs = name;
    if (copyAs.length > 0) out.push(new HeaderPair(String.UTF8.encode(copyAs), request[i].value));
  }
  return out;
}

// Answers the request locally. `verdict` is the auth service's status, or
// "error" when no usable answer arrived.
function deny(config: AuthConfig, verdict: string): void {
  sendDenial(config, verdict);
  logInfo(FILTER, "denied request with " + config.denyStatus.toString() + " (auth service: " + verdict + ")");
}

// The local reply: deny_status, deny_body and `x-auth-denied: <verdict>`.
function sendDenial(config: AuthConfig, verdict: string): void {
  const headers = [headerPair("x-auth-denied", verdict)];
  const result = send_local_response(config.denyStatus, "auth_denied", String.UTF8.encode(config.denyBody),
    headers, GrpcStatusValues.InvalidCode);
  if (result != WasmResultValues.Ok) {
    logError(FILTER, "could not send the denial (result " + result.toString() + ")");
  }
}

// ---- the answer ---------------------------------------------------------------

// What the auth service said, read from the http-call response headers.
class Verdict {
  status: string = "";
  // Raw x-auth-user value; empty when the service sent none.
  user: ArrayBuffer = new ArrayBuffer(0);

  // The x-auth-denied value: the service's status, or "error" without one.
  describe(): string {
    if (this.status.length == 0) return "error";
    return this.status;
  }
}

// Reads the http-call response, in the root context the host delivered it to:
// hosts that keep the call response on the context that received it (Envoy
// does) report no headers to any other.
function readVerdict(headers: u32): Verdict {
  const verdict = new Verdict();
  if (headers == 0) return verdict; // failed, timed out or cancelled
  verdict.status = getHeader(HeaderMapTypeValues.HttpCallResponseHeaders, ":status");
  verdict.user = getHeaderBytes(HeaderMapTypeValues.HttpCallResponseHeaders, USER_HEADER);
  return verdict;
}

// The auth service's answer for `stream`. Runs in the root context.
function onCheckResponse(root: AuthRoot, stream: AuthStream, headers: u32): void {
  if (stream.finished) {
    // The client left while the check was out: there is no stream to switch to.
    logDebug(FILTER, "stream " + stream.context_id.toString() + " finished before the auth service answered");
    return;
  }
  const verdict = readVerdict(headers);
  // Everything below must act on the paused stream, not the root context.
  const switched = imports.proxy_set_effective_context(stream.context_id);
  if (switched != WasmResultValues.Ok) {
    logError(FILTER, "cannot resume stream " + stream.context_id.toString() + " (result " + switched.toString() + ")");
    return;
  }
  if (verdict.status == "200") {
    allow(stream, verdict);
  } else {
    deny(root.config, verdict.describe());
  }
}

function allow(stream: AuthStream, verdict: Verdict): void {
  if (verdict.user.byteLength > 0) {
    const result = replaceHeaderBytes(HeaderMapTypeValues.RequestHeaders, USER_HEADER, verdict.user);
    if (result != WasmResultValues.Ok) logError(FILTER, "could not set " + USER_HEADER + " (result " + result.toString() + ")");
  }
  const result = continue_request();
  if (result != WasmResultValues.Ok) {
    logError(FILTER, "could not resume stream " + stream.context_id.toString() + " (result " + result.toString() + ")");
    return;
  }
  let message = "allowed stream " + stream.context_id.toString();
  if (verdict.user.byteLength > 0) message += " as " + String.UTF8.decode(verdict.user);
  logDebug(FILTER, message);
}

// ---- contexts -------------------------------------------------------------

class AuthRoot extends RootContext {
  config: AuthConfig = new AuthConfig();
  // Service mode: the cluster's name, encoded once, and the checks out, by token.
  clusterKey: ArrayBuffer = new ArrayBuffer(0);
  calls: PendingCalls<AuthStream> = new PendingCalls<AuthStream>();
  // What the static check reads per request, as addresses into `config` (which keeps them alive).
  staticMode: bool = false;
  allowKey: usize = 0;
  allowKeyLength: usize = 0;
  allowPath: usize = 0;
  allowPathLength: usize = 0;
  allowList: usize = 0;
  allowListEnd: usize = 0;

  createContext(context_id: u32): Context {
    return new AuthStream(context_id, this);
  }

  // Deliberately does not call super.onConfigure (see lib/config.ts).
  onConfigure(configuration_size: u32): bool {
    const json = loadConfiguration(FILTER, configuration_size);
    if (json === null) return false;
    const config = parseConfig(json);
    if (config === null) return false;
    this.config = config;
    this.clusterKey = String.UTF8.encode(config.cluster);
    this.staticMode = config.isStatic();
    this.allowKey = changetype<usize>(config.allowHeaderKey);
    this.allowKeyLength = <usize>config.allowHeaderKey.byteLength;
    this.allowPath = changetype<usize>(config.allowHeaderPath);
    this.allowPathLength = <usize>config.allowHeaderPath.byteLength;
    this.allowList = changetype<usize>(config.allowList);
    this.allowListEnd = this.allowList + <usize>config.allowList.byteLength;
    if (config.isStatic()) {
      logDebug(FILTER, "configured: static, header " + config.allowHeader + ", " +
        config.allowValues.length.toString() + " allowed values");
      return true;
    }
    logDebug(FILTER, "configured: cluster " + config.cluster + ", path " + config.path + ", authority " +
      config.authority + ", timeout " + config.timeoutMs.toString() + "ms, forwarding [" +
      config.forwardHeaders.join(", ") + "]");
    return true;
  }

  // Every call this filter makes is a check (lib/http-call.ts says why not the SDK's path).
  onHttpCallResponse(token: u32, headers: u32, body_size: u32, trailers: u32): void {
    if (!this.calls.has(token)) {
      logError(FILTER, "answer for an unknown http_call token " + token.toString());
      return;
    }
    onCheckResponse(this, this.calls.take(token), headers);
  }
}

class AuthStream extends RecycledContext {
  // Set once the host is done with the stream, so a late answer is ignored.
  finished: bool = false;

  constructor(context_id: u32, root: AuthRoot) {
    super(context_id, root);
    this.reset();
  }

  reset(): void {
    this.finished = false;
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const address = rootAddress(changetype<usize>(this));
    if (changetype<AuthRoot>(address).staticMode) {
      // Nobody vouches for a user here, so a client-supplied value never passes.
      removeUserHeader();
      return checkStatic(address);
    }
    const root = changetype<AuthRoot>(this.root_context);
    const config = root.config;
    const check = checkRequestHeaders(config);
    // Only the auth service may vouch for a user: drop any client-supplied value.
    removeUserHeader();
    const result = root.calls.dispatch(this, root.clusterKey, check, config.timeoutMs);
    if (result != WasmResultValues.Ok) {
      logError(FILTER, "http call to cluster " + config.cluster + " failed (result " + result.toString() + ")");
      deny(config, "error");
      return FilterHeadersStatusValues.StopIteration;
    }
    logDebug(FILTER, "stream " + this.context_id.toString() + " waiting for " + config.cluster + config.path);
    return FilterHeadersStatusValues.StopIteration;
  }

  // The host ends a stream with on_delete (this filter exports no on_done or on_log); an
  // http_call still outstanding keeps the context alive past it, and its answer is ignored.
  onDelete(): void {
    this.finished = true;
    super.onDelete();
  }
}

function removeUserHeader(): void {
  const removed = removeHeaderRaw(HeaderMapTypeValues.RequestHeaders, USER_HEADER_KEY);
  if (removed != WasmResultValues.Ok) logError(FILTER, "could not remove " + USER_HEADER + " (result " + removed.toString() + ")");
}

function createRoot(context_id: u32): RootContext {
  return new AuthRoot(context_id);
}

registerFilter(FILTER, createRoot);
