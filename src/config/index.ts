// Public API of the configuration layer.

export { loadConfig, parseConfig, displayPath } from './load.ts';
export { ConfigError, filterIssue, formatIssue, type ConfigIssue } from './errors.ts';
export { parseDuration, parseByteSize } from './units.ts';
export { parseHostPort, formatHostPort } from './address.ts';
export type * from './types.ts';
export { LOG_LEVELS, FAILURE_POLICIES } from './types.ts';
