// Small pieces shared by the host-function files.

import type { Context } from '../context.ts';
import type { Vm } from '../vm.ts';

/** The context a host call acts on, with memory views refreshed; null outside any context. */
export function enter(vm: Vm): Context | null {
  vm.memory.refresh();
  return vm.effective ?? vm.current;
}

/** Logger for diagnostics about a guest's call (the plugin's when a context is known). */
export function loggerOf(vm: Vm, ctx: Context | null) {
  return ctx === null ? vm.logger : ctx.logger;
}
