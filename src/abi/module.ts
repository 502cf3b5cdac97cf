// Loading a .wasm file: read, compile once per content hash, detect the ABI version from the
// export markers. Compilation is the expensive part (V8 compiles lazily afterwards too), so every
// VM that runs the same bytes shares one WebAssembly.Module.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ModuleLoadError } from './errors.ts';
import { ABI_MARKERS, type AbiVersion } from './types.ts';

export interface CompiledModule {
  readonly file: string;
  readonly sha256: string;
  readonly module: WebAssembly.Module;
  readonly abi: AbiVersion;
  readonly exportNames: ReadonlySet<string>;
  readonly imports: readonly WebAssembly.ModuleImportDescriptor[];
}

const cache = new Map<string, CompiledModule>();

export function loadModuleFile(file: string): CompiledModule {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModuleLoadError(file, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`);
  }
  return compileModule(bytes, file);
}

export function compileModule(bytes: Uint8Array, file: string): CompiledModule {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const cached = cache.get(sha256);
  if (cached !== undefined) return cached.file === file ? cached : { ...cached, file };
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const hint = bytes.length >= 4 && Buffer.from(bytes.subarray(0, 4)).toString('latin1') === '\0asm' ? '' : ' (not a WebAssembly binary)';
    throw new ModuleLoadError(file, `invalid WebAssembly module${hint}: ${reason}`);
  }
  const exportNames = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const compiled: CompiledModule = {
    file,
    sha256,
    module,
    abi: detectAbi(exportNames, file),
    exportNames,
    imports: WebAssembly.Module.imports(module),
  };
  cache.set(sha256, compiled);
  return compiled;
}

function detectAbi(exportNames: ReadonlySet<string>, file: string): AbiVersion {
  for (const [marker, version] of ABI_MARKERS) if (exportNames.has(marker)) return version;
  const found = [...exportNames].filter((n) => n.startsWith('proxy_abi_version_'));
  const supported = ABI_MARKERS.map(([m]) => m).join(', ');
  throw new ModuleLoadError(
    file,
    `no supported Proxy-Wasm ABI marker: found ${found.length === 0 ? 'none' : found.join(', ')}; supported: ${supported}`,
  );
}
