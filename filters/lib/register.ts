import { registerRootContext, RootContext } from "@solo-io/proxy-runtime";

// The SDK picks the root-context factory by the host's `plugin_root_id`
// property when the root context is created, and traps if nothing is
// registered under that id. Registering under both "" and the filter's own
// name makes the module load whether or not the operator sets `root_id`.
export function registerFilter(name: string, factory: (context_id: u32) => RootContext): void {
  registerRootContext(factory, "");
  registerRootContext(factory, name);
}
