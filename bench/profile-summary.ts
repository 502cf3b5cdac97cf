// Summarises V8 CPU profiles (.cpuprofile, from `npm run bench -- --cpu-prof DIR`): the
// functions with the most self time, as a share of the time the thread was not idle.
// Usage: node bench/profile-summary.ts [--top N] FILE|DIR...
// A directory means its largest profile (the thread that served the requests).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  us: number;
  share: number;
}

const ROOT = join(import.meta.dirname, '..');

function where(url: string, line: number): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? relative(ROOT, new URL(url).pathname) : url;
  return `${path}:${line + 1}`;
}

/** Self time per function (by name and location), excluding idle time; largest first. */
export function selfTimes(profile: Profile): SelfTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, { name: string; where: string; us: number }>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    // A sample's time is the delta to the next sample.
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    busy += us;
    const name = node.callFrame.functionName || '(anonymous)';
    const at = where(node.callFrame.url, node.callFrame.lineNumber);
    const key = `${name}\0${at}`;
    const entry = totals.get(key) ?? { name, where: at, us: 0 };
    entry.us += us;
    totals.set(key, entry);
  }
  return [...totals.values()].map((t) => ({ ...t, share: busy === 0 ? 0 : t.us / busy })).sort((a, b) => b.us - a.us);
}

/** Which part of the stack a function belongs to, for the per-area totals. */
export function area(t: Pick<SelfTime, 'name' | 'where'>): string {
  if (t.name === '(garbage collector)') return 'garbage collector';
  if (t.name === '(program)' || t.name === '(root)') return 'V8 / native, unattributed';
  // Filters, but also undici's llhttp parser and Node's TypeScript stripper (amaro) are wasm.
  if (t.where.startsWith('wasm://') || t.name.startsWith('wasm-') || t.name === 'js-to-wasm') return 'wasm (filters, llhttp, amaro) and crossings';
  if (t.where.startsWith('src/')) return `sluice ${t.where.split('/')[1]}`;
  if (t.where.startsWith('node_modules/')) return t.where.split('/')[1]!;
  if (t.where.startsWith('node:')) return 'Node.js (JS)';
  if (t.where === '') return 'Node.js / V8 builtins (native)';
  return 'other';
}

function largestProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
  const top = Number(values.top);
  for (const arg of positionals) {
    const file = statSync(arg).isDirectory() ? largestProfile(arg) : arg;
    const rows = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    process.stdout.write(`\n${basename(arg)}: ${relative(process.cwd(), file)}\n\n| self % | function | where |\n| ---: | --- | --- |\n`);
    for (const r of rows.slice(0, top)) process.stdout.write(`| ${(r.share * 100).toFixed(1)} | ${r.name} | ${r.where} |\n`);
    const areas = new Map<string, number>();
    for (const r of rows) areas.set(area(r), (areas.get(area(r)) ?? 0) + r.share);
    process.stdout.write(`\n| self % | area |\n| ---: | --- |\n`);
    for (const [name, share] of [...areas].sort((a, b) => b[1] - a[1])) process.stdout.write(`| ${(share * 100).toFixed(1)} | ${name} |\n`);
  }
}
