// Instruction by instruction: where one optimised JS function spends its instructions. Joins V8's
// listing of the function's optimised code (`--print-opt-code --print-opt-code-filter=NAME`) with
// callgrind's per-instruction counts (`--dump-instr=yes`), for bench:abi:instructions --profile.
// A host call's cost is a few hundred straight-line instructions of checks and loads; this shows
// which, where the per-function counts cannot.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One optimised code object of the function, as V8 listed it. */
export interface CodeListing {
  start: number;
  size: number;
  /** Each instruction: its address, its offset in the code object, and its text. */
  instructions: Array<{ address: number; offset: string; text: string }>;
}

/**
 * The optimised code objects V8 printed for `name` (in the order printed: a re-optimisation
 * comes after the code it replaced).
 */
export function parseCodeListings(text: string, name: string): CodeListing[] {
  const listings: CodeListing[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '--- Optimized code ---') continue;
    let j = i + 1;
    let named = false;
    for (; j < lines.length && !lines[j]!.startsWith('Instructions (size = '); j++) {
      if (lines[j] === `name = ${name}`) named = true;
      if (lines[j] === '--- Optimized code ---') break;
    }
    const size = /^Instructions \(size = (\d+)\)/.exec(lines[j] ?? '');
    if (!named || size === null) continue;
    const instructions: CodeListing['instructions'] = [];
    for (j++; j < lines.length; j++) {
      const m = /^0x([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+(.*)$/.exec(lines[j]!);
      if (m !== null) instructions.push({ address: parseInt(m[1]!, 16), offset: m[2]!, text: m[3]!.trimEnd() });
      else if (lines[j]!.trim() !== '' && !lines[j]!.trimStart().startsWith(';;')) break;
    }
    if (instructions.length > 0) listings.push({ start: instructions[0]!.address, size: Number(size[1]), instructions });
    i = j - 1;
  }
  return listings;
}

/** Per address in [start, end): the instructions counted there, and the inclusive cost of calls made from there. */
export interface AddressCosts {
  self: Map<number, number>;
  calls: Map<number, number>;
}

/**
 * Reads a callgrind dump written with `--dump-instr=yes` (positions `instr line`, or `instr`):
 * the first event of each cost line, by instruction address, for addresses in [start, end).
 * Positions may be absolute (0x…), relative to the previous one (+n, -n) or repeated (*); the
 * cost line after `calls=` is the inclusive cost of that call, made from its address.
 */
export function addressCosts(dump: string, start: number, end: number): AddressCosts {
  const self = new Map<number, number>();
  const calls = new Map<number, number>();
  const positions = /^positions:\s+(.+)$/m.exec(dump)?.[1]?.trim().split(/\s+/).length ?? 1;
  let address = 0;
  let callLine = false;
  for (const line of dump.split('\n')) {
    if (line.startsWith('calls=')) {
      callLine = true;
      continue;
    }
    const first = line.charCodeAt(0);
    // Cost lines start with a position: a digit (0x…), +, - or *.
    if (!((first >= 48 && first <= 57) || line[0] === '+' || line[0] === '-' || line[0] === '*')) continue;
    const fields = line.split(' ');
    const position = fields[0]!;
    if (position.startsWith('0x')) address = parseInt(position, 16);
    else if (position[0] === '+') address += Number(position.slice(1));
    else if (position[0] === '-') address -= Number(position.slice(1));
    else if (position !== '*') address = Number(position);
    const cost = Number(fields[positions] ?? 0);
    const into = callLine ? calls : self;
    callLine = false;
    if (address >= start && address < end && Number.isFinite(cost)) into.set(address, (into.get(address) ?? 0) + cost);
  }
  return { self, calls };
}

/** The listing with per-call counts, and its totals. */
export interface Profile {
  /** Times the function was entered (the count at its first instruction). */
  entries: number;
  selfPerCall: number;
  calleesPerCall: number;
  /** Executed instructions: times run per call, callee cost per call, offset and text. */
  lines: Array<{ perCall: number; calleePerCall: number; offset: string; text: string }>;
}

/** Joins a listing with its costs; null when the function's first instruction never ran. */
export function profile(listing: CodeListing, costs: AddressCosts): Profile | null {
  const entries = costs.self.get(listing.start) ?? 0;
  if (entries === 0) return null;
  let self = 0;
  let callees = 0;
  const lines: Profile['lines'] = [];
  for (const ins of listing.instructions) {
    const s = costs.self.get(ins.address) ?? 0;
    const c = costs.calls.get(ins.address) ?? 0;
    self += s;
    callees += c;
    if (s > 0 || c > 0) lines.push({ perCall: s / entries, calleePerCall: c / entries, offset: ins.offset, text: ins.text });
  }
  return { entries, selfPerCall: self / entries, calleesPerCall: callees / entries, lines };
}

/**
 * Writes the annotated listing to bench/results/profile-NAME-<timestamp>.txt and returns the
 * summary to print: calls counted, instructions per call in the function's own code and in what
 * it calls, and its costliest calls. `where` says what ran it (a bench:abi row, a proxy row).
 */
export function reportProfile(name: string, where: string, p: Profile): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(import.meta.dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `profile-${name.replace(/[^\w.-]/g, '_')}-${stamp}.txt`);
  const body = p.lines.map((l) => `${l.perCall.toFixed(2).padStart(6)} ${l.calleePerCall > 0 ? l.calleePerCall.toFixed(1).padStart(8) : ''.padStart(8)}  ${l.offset.padStart(5)}  ${l.text}`);
  writeFileSync(file, `${name} in ${where}: per call, times each instruction ran, the inclusive cost of calls made from it, offset, instruction\n\n${body.join('\n')}\n`);
  const callees = p.lines.filter((l) => l.calleePerCall >= 1).sort((a, b) => b.calleePerCall - a.calleePerCall).slice(0, 8);
  return (
    `${name} (${where}): ${p.entries} calls counted; ${p.selfPerCall.toFixed(0)} instructions per call in its own code, ` +
    `${p.calleesPerCall.toFixed(0)} in what it calls\n` +
    callees.map((l) => `  ${l.calleePerCall.toFixed(0).padStart(6)}  at +${l.offset}: ${l.text}\n`).join('') +
    `the annotated listing: ${file}\n`
  );
}
