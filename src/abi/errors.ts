// Errors the ABI layer raises, with stable string codes (undici style) so callers and tests can
// tell them apart without matching messages.

export class ModuleLoadError extends Error {
  readonly code = 'SLUICE_MODULE_LOAD';
  readonly file: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ModuleLoadError';
    this.file = file;
  }
}

export class PluginStartError extends Error {
  readonly code = 'SLUICE_PLUGIN_START';
  readonly plugin: string;
  constructor(plugin: string, reason: string) {
    super(`filter '${plugin}': ${reason}`);
    this.name = 'PluginStartError';
    this.plugin = plugin;
  }
}

/** A guest call trapped (or the VM was already dead). The VM can no longer be used. */
export class GuestTrap extends Error {
  readonly code = 'SLUICE_WASM_TRAP';
  readonly callback: string;
  constructor(callback: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${callback} failed: ${reason}`, { cause });
    this.name = 'GuestTrap';
    this.callback = callback;
  }
}

/** Thrown (as a deliberate trap) when a guest calls an import the host does not implement. */
export class UnimplementedHostCall extends Error {
  readonly code = 'SLUICE_UNIMPLEMENTED';
  constructor(module: string, name: string) {
    super(`the filter called ${module}.${name}, which sluice does not implement`);
    this.name = 'UnimplementedHostCall';
  }
}
