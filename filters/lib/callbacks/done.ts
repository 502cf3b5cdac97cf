// One stream callback export; see ../abi-lifecycle.ts for how a filter picks its callbacks.
// Also the root context's, when the plugin stops.
import { Context } from "@solo-io/proxy-runtime";
import { proxy_on_done as sdk_on_done } from "@solo-io/proxy-runtime/exports";
import { stream } from "../stream-table";

export function proxy_on_done(context_id: u32): u32 {
  const ctx = stream(context_id);
  if (ctx != 0) return changetype<Context>(ctx).onDone() ? 1 : 0;
  return sdk_on_done(context_id);
}
