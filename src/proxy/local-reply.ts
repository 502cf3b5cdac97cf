// Locally generated responses (filters' proxy_send_local_response, failures, limits): the
// response header map and body. gRPC replies become trailers-only responses, as in Envoy.

import type { LocalReply } from '../abi/context.ts';
import { HeaderMap } from '../abi/header-map.ts';

export function localReply(status: number, details: string, body = ''): LocalReply {
  return { status, details, body: Buffer.from(body), headers: [], grpcStatus: -1 };
}

export function localReplyHeaders(reply: LocalReply): { headers: HeaderMap; body: Buffer } {
  const headers = new HeaderMap([':status'], [String(reply.status)]);
  for (const [name, value] of reply.headers) headers.add(name, value);
  let body = reply.body;
  if (reply.grpcStatus >= 0 && reply.grpcStatus <= 16) {
    headers.set(':status', '200');
    headers.set('content-type', 'application/grpc');
    headers.set('grpc-status', String(reply.grpcStatus));
    if (body.length > 0) headers.set('grpc-message', encodeURIComponent(body.toString()));
    body = Buffer.alloc(0);
  } else if (body.length > 0 && !headers.has('content-type')) {
    headers.set('content-type', 'text/plain');
  }
  headers.set('content-length', String(body.length));
  return { headers, body };
}
