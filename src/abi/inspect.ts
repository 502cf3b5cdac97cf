// What `sluice inspect` says about a module: ABI, entry point, allocator, a guess at the SDK that
// built it, every import with whether sluice implements it, and the exports. A pure function of
// the compiled module and its bytes (the bytes are needed only for the start section, which the
// WebAssembly JS API does not expose).

import { CALLBACKS } from './exports.ts';
import { IMPLEMENTED_ENV_FUNCTIONS, isImplemented, linkProblem, PROXY_FUNCTION_NAMES, WASI_MODULES } from './imports.ts';
import type { CompiledModule } from './module.ts';
import { ABI_MARKERS, type AbiVersion } from './types.ts';
import { WASI_FUNCTION_NAMES } from './wasi.ts';

export interface ImportReport {
  readonly module: string;
  readonly name: string;
  readonly kind: string;
  /** sluice provides it; otherwise it links to a stub that traps when called. */
  readonly implemented: boolean;
  /** A Proxy-Wasm or WASI name sluice knows of (implemented or not). */
  readonly known: boolean;
}

export interface ExportReport {
  readonly name: string;
  readonly kind: string;
  /** sluice calls it (callback, entry point, allocator) or reads it (memory, ABI marker). */
  readonly used: boolean;
}

export interface EntryPointReport {
  /** A start section runs during instantiation, before anything sluice calls. */
  readonly startSection: boolean;
  /** What sluice calls after instantiation, in order (see Vm.start). */
  readonly calls: readonly string[];
  /** 'reactor' (_initialize), 'command' (_start), 'start-section' or 'none'. */
  readonly kind: 'reactor' | 'command' | 'start-section' | 'none';
}

export interface AllocatorReport {
  /** The export sluice allocates with, or null: the filter cannot receive values from the host. */
  readonly name: 'proxy_on_memory_allocate' | 'malloc' | null;
  /** Set when both are exported: `malloc` is there but not used. */
  readonly unused: 'malloc' | null;
}

export type SdkId = 'rust' | 'go' | 'tinygo' | 'emscripten' | 'assemblyscript' | 'unknown';

export interface SdkGuess {
  readonly id: SdkId;
  /** Human-readable, e.g. "TinyGo (WASI command)"; "unknown" when unsure. */
  readonly label: string;
  /** The signals the guess rests on. */
  readonly reasons: readonly string[];
}

export interface ModuleReport {
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly abi: AbiVersion;
  /** The ABI marker exports present (normally exactly one). */
  readonly markers: readonly string[];
  readonly entryPoint: EntryPointReport;
  readonly allocator: AllocatorReport;
  readonly sdk: SdkGuess;
  readonly imports: readonly ImportReport[];
  readonly exports: readonly ExportReport[];
  /** Why sluice cannot run the module (non-function import, no exported memory), or null. */
  readonly loadProblem: string | null;
}

export function inspectModule(compiled: CompiledModule, bytes: Uint8Array): ModuleReport {
  const exports = WebAssembly.Module.exports(compiled.module);
  const exportNames = compiled.exportNames;
  const markers = ABI_MARKERS.map(([m]) => m).filter((m) => exportNames.has(m));
  const entryPoint = describeEntryPoint(exportNames, hasStartSection(bytes));
  const allocator = describeAllocator(exportNames);
  const imports = compiled.imports.map(describeImport);
  const used = new Set<string>([...CALLBACKS, ...markers, 'memory', ...(allocator.name === null ? [] : [allocator.name])]);
  const memory = exports.find((e) => e.name === 'memory');
  const loadProblem =
    linkProblem(compiled.imports) ?? (memory?.kind === 'memory' ? null : 'does not export its memory as "memory"');
  return {
    file: compiled.file,
    sha256: compiled.sha256,
    bytes: bytes.length,
    abi: compiled.abi,
    markers,
    entryPoint,
    allocator,
    sdk: guessSdk({
      abi: compiled.abi,
      exports: exportNames,
      imports: compiled.imports,
      startSection: entryPoint.startSection,
      functionNames: functionNames(compiled.module),
      producers: producers(compiled.module),
    }),
    imports,
    exports: exports.map((e) => ({ name: e.name, kind: e.kind, used: used.has(e.name) })),
    loadProblem,
  };
}

function describeImport(i: WebAssembly.ModuleImportDescriptor): ImportReport {
  const isWasi = (WASI_MODULES as readonly string[]).includes(i.module);
  const known =
    i.module === 'env'
      ? PROXY_FUNCTION_NAMES.includes(i.name) || IMPLEMENTED_ENV_FUNCTIONS.includes(i.name)
      : isWasi && WASI_FUNCTION_NAMES.includes(i.name);
  return { module: i.module, name: i.name, kind: i.kind, implemented: i.kind === 'function' && isImplemented(i.module, i.name), known };
}

/** Mirrors Vm.start: `_initialize` (then `main(0, 0)` or `__main_void`), else `_start`. */
function describeEntryPoint(exports: ReadonlySet<string>, startSection: boolean): EntryPointReport {
  const calls: string[] = [];
  if (exports.has('_initialize')) {
    calls.push('_initialize');
    if (exports.has('main')) calls.push('main(0, 0)');
    else if (exports.has('__main_void')) calls.push('__main_void');
  } else if (exports.has('_start')) {
    calls.push('_start');
  }
  const kind = exports.has('_initialize') ? 'reactor' : exports.has('_start') ? 'command' : startSection ? 'start-section' : 'none';
  return { startSection, calls, kind };
}

/** The spec's order (proxy-wasm-cpp-host prefers malloc): see exports.ts. */
function describeAllocator(exports: ReadonlySet<string>): AllocatorReport {
  if (exports.has('proxy_on_memory_allocate')) {
    return { name: 'proxy_on_memory_allocate', unused: exports.has('malloc') ? 'malloc' : null };
  }
  return { name: exports.has('malloc') ? 'malloc' : null, unused: null };
}

// ---- SDK guess -------------------------------------------------------------------------------

export interface SdkSignals {
  abi: AbiVersion;
  exports: ReadonlySet<string>;
  imports: readonly WebAssembly.ModuleImportDescriptor[];
  startSection: boolean;
  functionNames: readonly string[];
  producers: ReadonlyMap<string, readonly string[]>;
}

const AS_RUNTIME_EXPORTS = ['__new', '__retain', '__release', '__rtti_base', '__pin', '__unpin', '__collect', '__alloc'];
const EMSCRIPTEN_EXPORTS = ['emscripten_stack_init', 'emscripten_stack_get_current', 'stackSave', 'stackRestore', 'stackAlloc', '_emscripten_stack_alloc'];
const RUST_NAME = /^(__rust_|rust_panic|rust_begin_unwind)|core::panicking|proxy_wasm::/;

/**
 * Heuristics from export/import shapes (reference §1.1, §6.2), checked most specific first.
 * Toolchains change; when nothing fits well the answer is "unknown".
 */
export function guessSdk(s: SdkSignals): SdkGuess {
  const has = (name: string) => s.exports.has(name);
  const envImports = new Set(s.imports.filter((i) => i.module === 'env').map((i) => i.name));
  const wasi = new Set(s.imports.filter((i) => (WASI_MODULES as readonly string[]).includes(i.module)).map((i) => i.name));
  const marker = `proxy_abi_version_${s.abi.replaceAll('.', '_')}`;
  const languages = s.producers.get('language') ?? [];
  const processedBy = s.producers.get('processed-by') ?? [];

  const asExports = AS_RUNTIME_EXPORTS.filter(has);
  if (asExports.length > 0) return guess('assemblyscript', 'AssemblyScript', [`exports ${asExports.join(', ')}`]);
  if (s.startSection && has('malloc') && !has('_initialize') && !has('_start') && (envImports.has('abort') || wasi.has('proc_exit'))) {
    const abort = envImports.has('abort') ? 'imports env.abort' : 'imports proc_exit (abort_proc_exit)';
    return guess('assemblyscript', 'AssemblyScript (proxy-runtime)', ['start section', 'malloc', abort]);
  }

  const rustNames = s.functionNames.filter((n) => RUST_NAME.test(n));
  const rustProducer = languages.includes('Rust') || processedBy.includes('rustc');
  const rustTarget = wasi.size === 0 ? 'wasm32-unknown-unknown' : 'wasm32-wasip1';
  if (rustNames.length > 0 || rustProducer) {
    const reasons = rustProducer ? ['producers section names Rust'] : [`function names like ${rustNames[0]}`];
    if (s.abi === '0.1.0') return guess('rust', 'Rust (SDK 0.1.x)', [...reasons, marker]);
    return guess('rust', `Rust (${rustTarget})`, [...reasons, wasi.size === 0 ? 'no WASI imports' : 'WASI imports']);
  }

  const emscripten = [
    ...(envImports.has('emscripten_notify_memory_growth') ? ['imports env.emscripten_notify_memory_growth'] : []),
    ...EMSCRIPTEN_EXPORTS.filter(has).map((n) => `exports ${n}`),
    ...(languages.some((l) => l.startsWith('C')) ? [`producers section names ${languages.join(', ')}`] : []),
  ];
  if (emscripten.length > 0) return guess('emscripten', 'C++ (Emscripten)', emscripten);

  const alloc = has('proxy_on_memory_allocate') ? 'proxy_on_memory_allocate' : has('malloc') ? 'malloc' : null;
  if (has('_initialize') && alloc === 'proxy_on_memory_allocate' && s.abi === '0.2.0' && wasi.has('fd_prestat_get')) {
    return guess('go', 'Go ≥ 1.24 (wasip1 reactor)', ['_initialize', marker, 'proxy_on_memory_allocate', 'imports fd_prestat_get (syscall preopen scan)']);
  }
  if (has('_start') && !has('_initialize') && alloc === 'proxy_on_memory_allocate' && s.abi === '0.2.0') {
    return guess('tinygo', 'TinyGo (WASI command)', ['_start', marker, 'proxy_on_memory_allocate']);
  }
  if (has('_initialize') && s.abi === '0.2.1') {
    // The Rust SDK is the only one exporting 0.2.1 with proxy_on_memory_allocate; on
    // wasm32-unknown-unknown it renames it malloc and imports no WASI, unlike Emscripten.
    if (alloc === 'proxy_on_memory_allocate') return guess('rust', `Rust (${rustTarget})`, ['_initialize', marker, 'proxy_on_memory_allocate']);
    if (alloc === 'malloc' && wasi.size === 0) return guess('rust', 'Rust (wasm32-unknown-unknown)', ['_initialize', marker, 'malloc', 'no WASI imports']);
    if (alloc === 'malloc') return guess('emscripten', 'C++ (Emscripten)', ['_initialize', marker, 'malloc', 'WASI imports']);
  }
  return guess('unknown', 'unknown', []);
}

function guess(id: SdkId, label: string, reasons: string[]): SdkGuess {
  return { id, label, reasons };
}

// ---- binary details --------------------------------------------------------------------------

/** Reads an unsigned LEB128 at `pos`; returns [value, next position] or null past the end. */
function leb(bytes: Uint8Array, pos: number): [number, number] | null {
  let result = 0;
  let shift = 0;
  for (let p = pos; p < bytes.length && shift < 35; p++) {
    const byte = bytes[p]!;
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [result, p + 1];
  }
  return null;
}

const START_SECTION = 8;

/** Walks the section headers of a (validated) binary looking for a start section. */
function hasStartSection(bytes: Uint8Array): boolean {
  let pos = 8; // magic + version
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const size = leb(bytes, pos + 1);
    if (size === null) return false;
    if (id === START_SECTION) return true;
    pos = size[1] + size[0];
  }
  return false;
}

/** A tiny reader over one custom section's payload; every read returns null past the end. */
class Reader {
  readonly #bytes: Uint8Array;
  pos = 0;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  get done(): boolean {
    return this.pos >= this.#bytes.length;
  }
  u32(): number | null {
    const r = leb(this.#bytes, this.pos);
    if (r === null) return null;
    this.pos = r[1];
    return r[0];
  }
  byte(): number | null {
    return this.pos < this.#bytes.length ? this.#bytes[this.pos++]! : null;
  }
  string(): string | null {
    const len = this.u32();
    if (len === null || this.pos + len > this.#bytes.length) return null;
    const s = Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset + this.pos, len).toString('utf8');
    this.pos += len;
    return s;
  }
  skip(len: number): void {
    this.pos += len;
  }
}

/** Function names from the `name` custom section (subsection 1), if the module kept it. */
function functionNames(module: WebAssembly.Module): string[] {
  const names: string[] = [];
  for (const section of WebAssembly.Module.customSections(module, 'name')) {
    const r = new Reader(new Uint8Array(section));
    while (!r.done) {
      const id = r.byte();
      const size = r.u32();
      if (id === null || size === null) break;
      if (id !== 1) {
        r.skip(size);
        continue;
      }
      const count = r.u32() ?? 0;
      for (let i = 0; i < count; i++) {
        if (r.u32() === null) break;
        const name = r.string();
        if (name === null) break;
        names.push(name);
      }
      break;
    }
  }
  return names;
}

/** The `producers` custom section: field ("language", "processed-by", "sdk") → tool names. */
function producers(module: WebAssembly.Module): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const section of WebAssembly.Module.customSections(module, 'producers')) {
    const r = new Reader(new Uint8Array(section));
    const fieldCount = r.u32() ?? 0;
    for (let f = 0; f < fieldCount; f++) {
      const field = r.string();
      const count = r.u32();
      if (field === null || count === null) return fields;
      const values = fields.get(field) ?? [];
      for (let i = 0; i < count; i++) {
        const name = r.string();
        if (name === null || r.string() === null) return fields;
        values.push(name);
      }
      fields.set(field, values);
    }
  }
  return fields;
}
