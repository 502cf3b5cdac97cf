// `sluice inspect FILE.wasm [--json]`: prints what src/abi/inspect.ts finds. Exit 0 when sluice
// can load the module, 1 (with one line on stderr saying why) when it cannot.

import { readFileSync } from 'node:fs';
import { ModuleLoadError } from './abi/errors.ts';
import { inspectModule, type ModuleReport } from './abi/inspect.ts';
import { compileModule } from './abi/module.ts';

export function inspectCommand(file: string, json: boolean): number {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? String(err)})`;
    return failure(`${file}: ${reason}`);
  }
  let report: ModuleReport;
  try {
    report = inspectModule(compileModule(bytes, file), bytes);
  } catch (err) {
    if (err instanceof ModuleLoadError) return failure(err.message);
    throw err;
  }
  if (report.loadProblem !== null) return failure(`${file}: ${report.loadProblem}`);
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return 0;
}

function failure(message: string): number {
  process.stderr.write(`sluice: ${message}\n`);
  return 1;
}

export function formatReport(r: ModuleReport): string {
  const out: string[] = [];
  const field = (name: string, value: string) => out.push(`  ${`${name}:`.padEnd(13)}${value}`);
  out.push(r.file);
  field('ABI', `${r.abi} (${r.markers.join(', ')})`);
  field('entry point', entryPoint(r));
  field('allocator', allocator(r));
  field('SDK guess', r.sdk.reasons.length === 0 ? r.sdk.label : `${r.sdk.label} — ${r.sdk.reasons.join(', ')}`);
  field('size', `${r.bytes} bytes, sha256 ${r.sha256}`);

  const missing = r.imports.filter((i) => !i.implemented).length;
  out.push('', `imports (${r.imports.length}${missing === 0 ? '' : `, ${missing} not implemented`}):`);
  for (const i of r.imports) {
    const name = `${i.module}.${i.name}`;
    if (i.implemented) out.push(`  ✓ ${name}`);
    else out.push(`  ✗ ${name} — ${i.known ? 'not implemented' : 'unknown import'}; traps when called`);
  }
  if (r.imports.length === 0) out.push('  (none)');

  out.push('', `exports (${r.exports.length}; ✓ = used by sluice):`);
  for (const e of r.exports) out.push(`  ${e.used ? '✓' : '·'} ${e.name}${e.kind === 'function' ? '' : ` (${e.kind})`}`);
  return `${out.join('\n')}\n`;
}

function entryPoint(r: ModuleReport): string {
  const { kind, calls, startSection } = r.entryPoint;
  const after = startSection ? ' (after the start section)' : '';
  switch (kind) {
    case 'reactor':
      return `${calls.join(', then ')} (WASI reactor)${after}`;
    case 'command':
      return `_start (WASI command)${after}`;
    case 'start-section':
      return 'start section (runs at instantiation)';
    default:
      return 'none';
  }
}

function allocator(r: ModuleReport): string {
  const { name, unused } = r.allocator;
  if (name === null) return 'none — cannot receive values from the host (every call returning data fails)';
  return unused === null ? name : `${name} (${unused} is exported too, not used)`;
}
