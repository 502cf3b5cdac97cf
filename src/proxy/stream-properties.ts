// The stream attributes a filter reads with proxy_get_property, in Envoy's names and byte
// encodings (reference §7.13): strings raw, integers 8-byte LE, times as int64 nanoseconds,
// maps as serialized pairs.

import { HeaderMap } from '../abi/header-map.ts';
import { durationValue, int64Value, mapValue, timestampValue, uint64Value } from '../abi/property-encoding.ts';
import type { PropertyValue } from '../abi/context.ts';
import { metadataProperty } from './metadata-value.ts';
import type { HttpStream } from './stream.ts';

function joinedHeaders(map: HeaderMap): Buffer {
  const names: string[] = [];
  const values: string[] = [];
  for (const name of new Set(map.names)) {
    names.push(name);
    values.push(map.getJoined(name)!);
  }
  return mapValue(names, values);
}

/**
 * `request.headers`, `response.headers` and the like, `rest` segments after the map's name:
 * the whole map as pairs (a name's values joined with ","), or one name's joined values.
 */
export function headersProperty(map: HeaderMap | null, key: string | undefined, rest: number): PropertyValue | undefined {
  if (map === null || rest > 1) return undefined;
  if (key === undefined) return joinedHeaders(map);
  // Path segments come internalized from the path cache (property-paths.ts), as the map's names
  // mostly are: a lower-case key finds its name by address. Only a miss lower-cases the key.
  const value = map.getJoined(key);
  if (value !== undefined) return value;
  const lower = key.toLowerCase();
  return lower === key ? undefined : map.getJoined(lower);
}

function requestProperty(s: HttpStream, field: string | undefined, path: readonly string[]): PropertyValue | undefined {
  const h = s.requestHeaders;
  if (field === 'headers') return headersProperty(h, path[2], path.length - 2);
  if (path.length !== 2) return undefined;
  switch (field) {
    case 'path':
      return h.get(':path') ?? '';
    case 'url_path': {
      const p = h.get(':path') ?? '';
      const q = p.indexOf('?');
      return q === -1 ? p : p.slice(0, q);
    }
    case 'query': {
      const p = h.get(':path') ?? '';
      const q = p.indexOf('?');
      if (q === -1) return '';
      const hash = p.indexOf('#', q);
      return p.slice(q + 1, hash === -1 ? undefined : hash);
    }
    case 'host':
      return h.get(':authority') ?? '';
    case 'scheme':
      return h.get(':scheme') ?? 'http';
    case 'method':
      return h.get(':method') ?? '';
    case 'id': {
      const id = h.get('x-request-id');
      return id === undefined ? undefined : id;
    }
    case 'referer':
    case 'useragent': {
      const v = h.get(field === 'referer' ? 'referer' : 'user-agent');
      return v === undefined ? undefined : v;
    }
    case 'protocol':
      return `HTTP/${s.httpVersion}`;
    case 'time':
      return timestampValue(s.startTime);
    case 'duration':
      return s.endedAt === 0 ? undefined : durationValue(s.endedAt - s.startedAt);
    case 'size': {
      const cl = h.get('content-length');
      return int64Value(cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : s.bytesReceived);
    }
    case 'total_size':
      return int64Value(s.bytesReceived + h.byteSize);
    case 'headers_bytes':
      return int64Value(h.byteSize);
    default:
      return undefined;
  }
}

function responseProperty(s: HttpStream, field: string | undefined, path: readonly string[]): PropertyValue | undefined {
  const h = s.responseHeaders;
  if (field === 'headers') return headersProperty(h, path[2], path.length - 2);
  if (field === 'trailers') return headersProperty(s.responseTrailers, path[2], path.length - 2);
  if (path.length !== 2) return undefined;
  switch (field) {
    case 'code': {
      const code = s.statusCode !== 0 ? s.statusCode : Number(h?.get(':status'));
      return Number.isFinite(code) && code > 0 ? int64Value(code) : undefined;
    }
    case 'code_details':
      return s.responseHeaders === null ? undefined : s.codeDetails;
    case 'flags':
      // Envoy's response-flags bit set; sluice has no such flags, so it is always empty.
      return h === null ? undefined : int64Value(0);
    case 'grpc_status': {
      const status = s.responseTrailers?.get('grpc-status') ?? h?.get('grpc-status');
      return status === undefined || !/^\d+$/.test(status) ? undefined : int64Value(Number(status));
    }
    case 'backend_latency':
      return s.upstreamLatencyMs < 0 ? undefined : durationValue(s.upstreamLatencyMs);
    case 'size':
      return h === null ? undefined : int64Value(s.bytesSent);
    case 'total_size':
      return h === null ? undefined : int64Value(s.bytesSent + h.byteSize);
    case 'headers_bytes':
      return h === null ? undefined : int64Value(h.byteSize);
    default:
      return undefined;
  }
}

function addressProperty(ip: string, port: number, field: string | undefined, length: number): PropertyValue | undefined {
  if (length !== 2) return undefined;
  if (field === 'address') return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  if (field === 'port') return int64Value(port);
  return undefined;
}

/** The endpoint the request went to, once it was sent to one. */
function upstreamProperty(s: HttpStream, field: string | undefined, length: number): PropertyValue | undefined {
  const endpoint = s.upstream === null ? null : s.upstream.endpoint;
  if (endpoint === null || length !== 2) return undefined;
  switch (field) {
    case 'address':
    case 'port': {
      const i = endpoint.lastIndexOf(':');
      return addressProperty(endpoint.slice(0, i).replace(/^\[|\]$/g, ''), Number(endpoint.slice(i + 1)), field, 2);
    }
    case 'request_attempt_count':
      return uint64Value(1); // sluice does not retry
    case 'num_endpoints': {
      const cluster = s.route?.config.cluster;
      const config = cluster === undefined ? undefined : s.listener.clusters.get(cluster)?.config;
      return config === undefined ? undefined : uint64Value(config.endpoints.length);
    }
    default:
      return undefined;
  }
}

/** `xds.<field>` (or its legacy top-level spelling) followed by `rest`. */
function xdsProperty(s: HttpStream, field: string | undefined, rest: readonly string[]): PropertyValue | undefined {
  const route = s.route?.config;
  const clusterName = route?.cluster;
  switch (field) {
    case 'route_name':
      return route === undefined || rest.length > 0 ? undefined : route.name;
    case 'cluster_name':
      return clusterName === undefined || rest.length > 0 ? undefined : clusterName;
    case 'filter_chain_name':
      return rest.length > 0 ? undefined : s.listener.config.name;
    case 'listener_direction':
      return rest.length > 0 ? undefined : int64Value(0); // unspecified: a sidecar has no direction of its own
    case 'route_metadata':
      return route === undefined ? undefined : metadataProperty(route.metadata, rest);
    case 'listener_metadata':
      return metadataProperty(s.listener.config.metadata, rest);
    case 'cluster_metadata': {
      const cluster = clusterName === undefined ? undefined : s.listener.clusters.get(clusterName);
      return cluster === undefined ? undefined : metadataProperty(cluster.config.metadata, rest);
    }
    default:
      return undefined;
  }
}

export function streamProperty(s: HttpStream, path: readonly string[]): PropertyValue | undefined {
  const [root, field] = path;
  switch (root) {
    case 'request':
      return requestProperty(s, field, path);
    case 'response':
      return responseProperty(s, field, path);
    case 'source':
      return addressProperty(s.remoteAddress, s.remotePort, field, path.length);
    case 'destination':
      return addressProperty(s.localAddress, s.localPort, field, path.length);
    case 'connection':
      if (path.length === 2 && field === 'id') return uint64Value(s.connectionId);
      if (path.length === 2 && field === 'mtls') return Buffer.from([0]);
      // Plain-text listeners: no SNI (empty, as Envoy reports it); TLS attributes stay NOT_FOUND.
      if (path.length === 2 && field === 'requested_server_name') return '';
      return undefined;
    case 'connection_id':
      return path.length === 1 ? uint64Value(s.connectionId) : undefined;
    case 'upstream':
      return upstreamProperty(s, field, path.length);
    case 'xds':
      return xdsProperty(s, path[1], path.slice(2));
    // Top-level spellings Envoy removed in favour of xds.*; the Go SDK still reads them.
    case 'cluster_name':
    case 'route_name':
    case 'listener_direction':
    case 'cluster_metadata':
    case 'route_metadata':
    case 'listener_metadata':
    case 'upstream_host_metadata':
      return xdsProperty(s, root, path.slice(1));
  }
  // Anything else may have been set by a filter earlier in this request.
  return s.filterState?.get(path.join('\0'));
}
