// One stream callback export; see ../abi-lifecycle.ts for how a filter picks its callbacks.
import { Context } from "@solo-io/proxy-runtime";
import { stream } from "../stream-table";

export function proxy_on_response_trailers(context_id: u32, trailers: u32): i32 {
  return changetype<Context>(stream(context_id)).onResponseTrailers(trailers);
}
