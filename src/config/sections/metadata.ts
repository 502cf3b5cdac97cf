// `metadata:` on listeners, routes and clusters, and the `node:` identity: free-form data that
// filters read as properties (xds.route_metadata, xds.node.metadata, ...), as in Envoy.

import type { Field, Reader } from '../reader.ts';
import type { Metadata, NodeConfig } from '../types.ts';

const NODE_SHAPE = { keys: ['id', 'cluster', 'metadata'] };

/** A map of anything YAML can say (nested maps, lists, strings, numbers, booleans). */
export function readMetadata(r: Reader, field: Field): Metadata | undefined {
  if (!r.map(field)) return undefined;
  return r.toJS(field) as Metadata;
}

export const DEFAULT_NODE: NodeConfig = { id: 'sluice', cluster: 'sluice', metadata: {} };

export function readNode(r: Reader, field: Field): NodeConfig | undefined {
  const entry = r.map(field, NODE_SHAPE);
  if (!entry) return undefined;
  return {
    id: entry.readOr('id', r.string, DEFAULT_NODE.id),
    cluster: entry.readOr('cluster', r.string, DEFAULT_NODE.cluster),
    metadata: entry.readOr('metadata', (f) => readMetadata(r, f), {}),
  };
}
