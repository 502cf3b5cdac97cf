// Problems found in a config file. Every problem is reported, not just the
// first, and each one carries the position a user needs to fix it.

import type { FilterConfig } from './types.ts';

/** One problem. `line`/`col` are 1-based; 0 means the problem concerns the whole file. */
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** Key path such as `listeners[0].routes[1].cluster`; '' for the document itself. */
  path: string;
  message: string;
}

/** `FILE:LINE:COL path: message`, with the parts that don't apply left out. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.col}` : issue.file;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/**
 * A problem with a configured filter found after the file was read (its module, its start),
 * placed where the filter is defined: `FILE:LINE:COL filters[i]: message`.
 */
export function filterIssue(filters: readonly FilterConfig[], name: string, message: string): string {
  const index = filters.findIndex((f) => f.name === name);
  const at = filters[index]?.source;
  return at === undefined ? message : formatIssue({ ...at, path: `filters[${index}]`, message });
}

/** Thrown by loadConfig/parseConfig; `message` holds one formatted issue per line. */
export class ConfigError extends Error {
  readonly code = 'SLUICE_CONFIG_INVALID';
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Thrown by the value parsers (durations, sizes, addresses) when the text is
 * malformed. The message is user-facing; the caller adds position and path.
 */
export class ValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueError';
  }
}
