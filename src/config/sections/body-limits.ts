// The request/response buffering limits a listener sets and a route may override.

import type { MapFields, Reader } from '../reader.ts';
import { parseByteSize } from '../units.ts';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface BodyLimits { maxRequestBodyBytes: number; maxResponseBodyBytes: number }

export const BODY_LIMIT_KEYS = ['max_request_body_bytes', 'max_response_body_bytes'] as const;

export function readBodyLimits(r: Reader, entry: MapFields, defaults: BodyLimits): BodyLimits {
  const size = (key: string, fallback: number) => entry.readOr(key, (field) => r.parseQuantity(field, parseByteSize), fallback);
  return {
    maxRequestBodyBytes: size('max_request_body_bytes', defaults.maxRequestBodyBytes),
    maxResponseBodyBytes: size('max_response_body_bytes', defaults.maxResponseBodyBytes),
  };
}
