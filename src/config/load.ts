// Entry points: config file or text in, validated SluiceConfig out, or a
// ConfigError listing every problem.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parseYaml } from './document.ts';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { Reader } from './reader.ts';
import { readConfig } from './sections/root.ts';
import type { SluiceConfig } from './types.ts';

/** Reads, parses and validates a config file. Throws ConfigError. */
export function loadConfig(file: string): SluiceConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new ConfigError([{ file: displayPath(file), line: 0, col: 0, path: '', message: `cannot read config: ${reason}` }]);
  }
  return parseConfig(text, file);
}

/**
 * Parses and validates config text as if read from `file`: module paths are
 * resolved against dirname(file), which need not exist itself. Throws ConfigError.
 */
export function parseConfig(text: string, file: string): SluiceConfig {
  const shownAs = displayPath(file);
  const { doc, lines, issues } = parseYaml(text, shownAs);
  // A document with syntax errors is only partly built; checking it would add noise.
  if (issues.length > 0) throw new ConfigError(sortByPosition(issues));
  const reader = new Reader(doc, lines, shownAs);
  const absolute = resolve(file);
  const config = readConfig(reader, { file: absolute, baseDir: dirname(absolute) });
  if (!config) throw new ConfigError(sortByPosition(reader.issues));
  return config;
}

/** The file as issues show it: relative to the working directory when inside it, else as given. */
export function displayPath(file: string): string {
  const fromCwd = relative(process.cwd(), resolve(file));
  const inside = fromCwd !== '' && !fromCwd.startsWith('..') && !isAbsolute(fromCwd);
  return inside ? fromCwd : file;
}

function sortByPosition(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.toSorted((a, b) => a.line - b.line || a.col - b.col);
}
