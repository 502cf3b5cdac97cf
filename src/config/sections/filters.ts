// `filters:` — the Proxy-Wasm modules listeners and routes can run, with the
// configuration each one receives.

import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isCollection } from 'yaml';
import { readAll, type Field, type MapFields, type Reader } from '../reader.ts';
import { formatHostPort, parseHostPort } from '../address.ts';
import type { Symbols } from '../symbols.ts';
import { FAILURE_POLICIES, LOG_LEVELS, type FilterConfig, type LogLevelName } from '../types.ts';

const FILTER_SHAPE = {
  keys: ['name', 'module', 'root_id', 'vm_id', 'configuration', 'vm_configuration', 'failure_policy', 'log_level', 'env', 'http_call_hosts'],
  required: ['name', 'module'],
};

export interface FilterDefaults {
  /** Module paths are relative to the config file's directory. */
  baseDir: string;
  logLevel: LogLevelName;
}

export function readFilters(r: Reader, symbols: Symbols, field: Field | undefined, defaults: FilterDefaults): FilterConfig[] {
  const items = field ? r.list(field) : [];
  return (items ?? []).flatMap((item) => readFilter(r, symbols, item, defaults) ?? []);
}

function readFilter(r: Reader, symbols: Symbols, field: Field, defaults: FilterDefaults): FilterConfig | undefined {
  const entry = r.map(field, FILTER_SHAPE);
  if (!entry) return undefined;
  const name = symbols.readName(entry, 'filter');
  const module = entry.read('module', (f) => readModulePath(r, f, defaults.baseDir));
  const filter = {
    rootId: entry.readOr('root_id', r.string, ''),
    vmId: entry.readOr('vm_id', r.string, ''),
    configuration: readPluginConfiguration(r, entry, 'configuration'),
    vmConfiguration: readPluginConfiguration(r, entry, 'vm_configuration'),
    failurePolicy: entry.readOr('failure_policy', (f) => r.oneOf(f, FAILURE_POLICIES), 'fail_closed'),
    logLevel: entry.readOr('log_level', (f) => r.oneOf(f, LOG_LEVELS), defaults.logLevel),
    env: entry.readOr('env', (f) => readEnv(r, f), []),
    httpCallHosts: entry.readOr('http_call_hosts', (f) => readHosts(r, f), []),
    source: r.locate(field.offset),
  };
  if (name === undefined || module === undefined) return undefined;
  return { name, module, ...filter };
}

/** Resolves the module path and checks, now rather than at startup, that it is a readable file. */
function readModulePath(r: Reader, field: Field, baseDir: string): string | undefined {
  const written = r.nonEmptyString(field);
  if (written === undefined) return undefined;
  const path = resolve(baseDir, written);
  const problem = moduleFileProblem(path);
  if (problem) {
    r.report(field, `${problem}: ${written}${path === written ? '' : ` (resolved to ${path})`}`);
    return undefined;
  }
  return path;
}

function moduleFileProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'module is not a file';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'module file not found';
    if (code === 'EACCES' || code === 'EPERM') return 'module file is not readable';
    return `cannot read module file (${code ?? String(error)})`;
  }
}

/**
 * What the filter receives from proxy_on_configure / proxy_on_vm_start: a
 * string as written, a map or list as compact JSON, '' when absent.
 */
function readPluginConfiguration(r: Reader, entry: MapFields, key: string): string {
  return entry.readOr(key, (field) => {
    if (isCollection(field.node)) return toJson(r, field);
    const value = r.toJS(field);
    if (typeof value === 'string') return value;
    r.expected(field, 'a string, a map or a list');
    return undefined;
  }, '');
}

function toJson(r: Reader, field: Field): string | undefined {
  try {
    return JSON.stringify(r.toJS(field));
  } catch (error) {
    // Only self-referencing aliases get here.
    r.report(field, `cannot be converted to JSON: ${(error as Error).message}`);
    return undefined;
  }
}

/** `env: { KEY: value }` — scalar values are passed as text. */
function readEnv(r: Reader, field: Field): [string, string][] | undefined {
  const entry = r.map(field);
  if (!entry) return undefined;
  const out: [string, string][] = [];
  for (const { key, keyField, field: value } of entry.entries) {
    if (key === '' || key.includes('=')) r.report(keyField, 'an environment variable name must be non-empty and contain no "="');
    const v = r.toJS(value);
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.push([key, String(v)]);
    else r.expected(value, 'a string, number or boolean');
  }
  return out;
}

/** `http_call_hosts: [host:port, ...]` — literal targets a filter may call (SSRF allow-list). */
function readHosts(r: Reader, field: Field): string[] | undefined {
  return readAll(r.list(field), (item) => {
    const hp = r.parse(item, parseHostPort);
    return hp && formatHostPort({ host: hp.host.toLowerCase(), port: hp.port });
  });
}
