// Proxy-Wasm enumerations, spelled as the spec spells them. `as const` objects rather than
// `enum` so Node can run the sources with type stripping only.

export const Status = {
  OK: 0,
  NOT_FOUND: 1,
  BAD_ARGUMENT: 2,
  SERIALIZATION_FAILURE: 3,
  PARSE_FAILURE: 4,
  BAD_EXPRESSION: 5,
  INVALID_MEMORY_ACCESS: 6,
  EMPTY: 7,
  CAS_MISMATCH: 8,
  RESULT_MISMATCH: 9,
  INTERNAL_FAILURE: 10,
  BROKEN_CONNECTION: 11,
  UNIMPLEMENTED: 12,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

export const LogLevel = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, CRITICAL: 5 } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

export const BufferType = {
  HTTP_REQUEST_BODY: 0,
  HTTP_RESPONSE_BODY: 1,
  DOWNSTREAM_DATA: 2,
  UPSTREAM_DATA: 3,
  HTTP_CALL_RESPONSE_BODY: 4,
  GRPC_CALL_MESSAGE: 5,
  VM_CONFIGURATION: 6,
  PLUGIN_CONFIGURATION: 7,
  FOREIGN_FUNCTION_ARGUMENTS: 8,
} as const;
export const MAX_BUFFER_TYPE = 8;

export const MapType = {
  HTTP_REQUEST_HEADERS: 0,
  HTTP_REQUEST_TRAILERS: 1,
  HTTP_RESPONSE_HEADERS: 2,
  HTTP_RESPONSE_TRAILERS: 3,
  GRPC_CALL_INITIAL_METADATA: 4,
  GRPC_CALL_TRAILING_METADATA: 5,
  HTTP_CALL_RESPONSE_HEADERS: 6,
  HTTP_CALL_RESPONSE_TRAILERS: 7,
} as const;
export const MAX_MAP_TYPE = 7;

export const StreamType = { HTTP_REQUEST: 0, HTTP_RESPONSE: 1, DOWNSTREAM: 2, UPSTREAM: 3 } as const;
export type StreamType = (typeof StreamType)[keyof typeof StreamType];

/** What a stream callback returned, reduced to what the stream driver acts on. */
export const Action = { CONTINUE: 0, PAUSE: 1 } as const;
export type Action = (typeof Action)[keyof typeof Action];

export const MetricType = { COUNTER: 0, GAUGE: 1, HISTOGRAM: 2 } as const;

export const AbiVersion = {
  V0_1_0: '0.1.0',
  V0_2_0: '0.2.0',
  V0_2_1: '0.2.1',
} as const;
export type AbiVersion = (typeof AbiVersion)[keyof typeof AbiVersion];

/** Export markers and the ABI each one announces, in the order we look for them. */
export const ABI_MARKERS: ReadonlyArray<readonly [string, AbiVersion]> = [
  ['proxy_abi_version_0_2_1', AbiVersion.V0_2_1],
  ['proxy_abi_version_0_2_0', AbiVersion.V0_2_0],
  ['proxy_abi_version_0_1_0', AbiVersion.V0_1_0],
];

export const LOG_LEVEL_BY_NAME = {
  trace: LogLevel.TRACE,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  critical: LogLevel.CRITICAL,
} as const;
