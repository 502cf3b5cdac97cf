// One stream callback export; see ../abi-lifecycle.ts for how a filter picks its callbacks.
import { Context } from "@solo-io/proxy-runtime";
import { stream } from "../stream-table";

export function proxy_on_response_body(context_id: u32, body_buffer_length: u32, end_of_stream: u32): i32 {
  return changetype<Context>(stream(context_id)).onResponseBody(body_buffer_length, end_of_stream != 0);
}
