// Locally generated responses (filters' proxy_send_local_response, failures, limits): the
// response header map and body. gRPC replies become trailers-only responses, as in Envoy.

import type { LocalReply } from '../abi/context.ts';
import { HeaderMap } from '../abi/header-map.ts';

export function localReply(status: number, details: string, body = ''): LocalReply {
  return { status, details, body: Buffer.from(body), headers: [], grpcStatus: -1 };
}

/**
 * Envoy answers in gRPC form (trailers-only) only when the request was gRPC; otherwise the
 * status a filter gave is ignored (the Go SDK's properties example sends 401 with status 16).
 */
export function plainUnlessGrpcRequest(reply: LocalReply, requestHeaders: HeaderMap): LocalReply {
  if (reply.grpcStatus < 0 || isGrpcRequest(requestHeaders)) return reply;
  return { ...reply, grpcStatus: -1 };
}

/** Envoy's hasGrpcContentType: `application/grpc`, or `application/grpc+<codec>` (not grpc-web). */
function isGrpcRequest(headers: HeaderMap): boolean {
  const type = headers.get('content-type') ?? '';
  return type === 'application/grpc' || type.startsWith('application/grpc+');
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
