// The `service` argument of proxy_grpc_call / proxy_grpc_stream: either a plain cluster name or
// a serialized envoy.config.core.v3.GrpcService. Envoy tries the proto first and falls back to
// the name; so do we. Of the proto only `envoy_grpc.cluster_name` (field 1 → field 1) matters
// here, so a tiny wire-format reader is enough.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

interface Field {
  number: number;
  /** The payload of a length-delimited field; undefined for scalar fields. */
  bytes: Uint8Array | undefined;
}

/** Reads a varint at `pos`; returns [value, next position] or null when truncated or too long. */
function readVarint(buf: Uint8Array, pos: number): [number, number] | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) return null;
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return [value, pos];
  }
  return null;
}

/** Every top-level field of a message, or null when the bytes are not a well-formed message. */
export function readFields(buf: Uint8Array): Field[] | null {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const key = readVarint(buf, pos);
    if (key === null) return null;
    pos = key[1];
    const number = Math.floor(key[0] / 8);
    const wire = key[0] % 8;
    if (number === 0) return null;
    switch (wire) {
      case WIRE_VARINT: {
        const v = readVarint(buf, pos);
        if (v === null) return null;
        pos = v[1];
        fields.push({ number, bytes: undefined });
        break;
      }
      case WIRE_I64:
      case WIRE_I32:
        pos += wire === WIRE_I64 ? 8 : 4;
        if (pos > buf.length) return null;
        fields.push({ number, bytes: undefined });
        break;
      case WIRE_LEN: {
        const len = readVarint(buf, pos);
        if (len === null || len[1] + len[0] > buf.length) return null;
        fields.push({ number, bytes: buf.subarray(len[1], len[1] + len[0]) });
        pos = len[1] + len[0];
        break;
      }
      default:
        return null; // groups (3, 4) are not used by GrpcService; 6 and 7 do not exist
    }
  }
  return fields;
}

/** `envoy_grpc.cluster_name` of a serialized GrpcService, or null when `bytes` is not one. */
export function grpcServiceCluster(bytes: Uint8Array): string | null {
  const top = readFields(bytes);
  if (top === null) return null;
  // Proto3 merges repeated occurrences of a singular message field; the last cluster_name wins.
  let cluster: string | null = null;
  for (const field of top) {
    if (field.number !== 1 || field.bytes === undefined) continue;
    const envoyGrpc = readFields(field.bytes);
    if (envoyGrpc === null) return null;
    for (const inner of envoyGrpc) {
      if (inner.number === 1 && inner.bytes !== undefined) cluster = Buffer.from(inner.bytes).toString('latin1');
    }
  }
  return cluster === '' ? null : cluster;
}

/** The cluster a `service` argument names: the GrpcService's cluster, else the bytes as a name. */
export function clusterOfService(bytes: Uint8Array): string {
  return grpcServiceCluster(bytes) ?? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
