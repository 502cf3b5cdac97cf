// Turns config text into a YAML document plus the line index positions are
// computed from. YAML errors and warnings become config issues.

import { LineCounter, parseDocument, type Document } from 'yaml';
import type { ConfigIssue } from './errors.ts';

export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
  /** Syntax errors and warnings (unknown tags, …); the tree is only trusted when empty. */
  issues: ConfigIssue[];
}

export function parseYaml(text: string, file: string): ParsedYaml {
  const lines = new LineCounter();
  // prettyErrors would append a multi-line source excerpt; we want one line per issue.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const issues = [...doc.errors, ...doc.warnings].map((problem): ConfigIssue => {
    const { line, col } = lines.linePos(problem.pos[0]);
    return { file, line, col, path: '', message: `invalid YAML: ${problem.message}` };
  });
  return { doc, lines, issues };
}
