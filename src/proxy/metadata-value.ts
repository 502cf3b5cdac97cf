// Config metadata (route/cluster/listener `metadata:`, `node:`) as property values, encoded the
// way Envoy serializes its protobuf values: a leaf string is its raw bytes, a number is the
// 8-byte little-endian double of google.protobuf.Value, a boolean one byte; a map or list is the
// protobuf binary of google.protobuf.Struct / ListValue (Envoy returns messages serialized).
// Path segments index maps by key and lists by decimal index; dots are not separators.

import type { Metadata, NodeConfig } from '../config/types.ts';

const EMPTY = Buffer.alloc(0);

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(payload.length)]), payload]);
}

/** google.protobuf.Value for any JSON-like value. */
function encodeValue(value: unknown): Buffer {
  if (value === null || value === undefined) return Buffer.from([(1 << 3) | 0, 0]); // null_value
  if (typeof value === 'number') {
    const out = Buffer.alloc(9);
    out[0] = (2 << 3) | 1; // number_value, fixed64
    out.writeDoubleLE(value, 1);
    return out;
  }
  if (typeof value === 'string') return lengthDelimited(3, Buffer.from(value, 'utf8'));
  if (typeof value === 'boolean') return Buffer.from([(4 << 3) | 0, value ? 1 : 0]);
  if (Array.isArray(value)) return lengthDelimited(6, encodeList(value));
  return lengthDelimited(5, encodeStruct(value as Record<string, unknown>));
}

/** google.protobuf.Struct: `map<string, Value> fields = 1`. */
export function encodeStruct(map: Record<string, unknown>): Buffer {
  const entries = Object.entries(map).map(([key, value]) =>
    lengthDelimited(1, Buffer.concat([lengthDelimited(1, Buffer.from(key, 'utf8')), lengthDelimited(2, encodeValue(value))])),
  );
  return Buffer.concat(entries);
}

/** google.protobuf.ListValue: `repeated Value values = 1`. */
function encodeList(list: readonly unknown[]): Buffer {
  return Buffer.concat(list.map((v) => lengthDelimited(1, encodeValue(v))));
}

/** A leaf as Envoy returns it; containers as their protobuf serialization. */
function encodeLeafOrContainer(value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'number') {
    const out = Buffer.alloc(8);
    out.writeDoubleLE(value);
    return out;
  }
  if (typeof value === 'boolean') return Buffer.from([value ? 1 : 0]);
  if (value === null || value === undefined) return EMPTY;
  if (Array.isArray(value)) return encodeList(value);
  return encodeStruct(value as Record<string, unknown>);
}

/** The value at `path` inside `data` (a metadata map), or undefined when absent. */
export function metadataProperty(data: unknown, path: readonly string[]): Buffer | undefined {
  let node = data;
  for (const segment of path) {
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(segment)) return undefined;
      node = node[Number(segment)];
    } else if (node !== null && typeof node === 'object' && Object.hasOwn(node, segment)) {
      node = (node as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
    if (node === undefined) return undefined;
  }
  return encodeLeafOrContainer(node);
}

/** `xds.node` (and the legacy `node`): envoy.config.core.v3.Node {id=1, cluster=2, metadata=3}. */
export function nodeProperty(node: NodeConfig, path: readonly string[]): Buffer | undefined {
  const view: Metadata = { id: node.id, cluster: node.cluster, metadata: node.metadata, user_agent_name: 'sluice' };
  if (path.length === 0) {
    return Buffer.concat([
      lengthDelimited(1, Buffer.from(node.id, 'utf8')),
      lengthDelimited(2, Buffer.from(node.cluster, 'utf8')),
      lengthDelimited(3, encodeStruct(node.metadata)),
      lengthDelimited(6, Buffer.from('sluice', 'utf8')),
    ]);
  }
  return metadataProperty(view, path);
}
