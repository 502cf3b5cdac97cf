// The access log's line: one per request, written by the stream when it ends and by the
// listener for a request Node could not make (client-error.ts). docs/configuration.md,
// "Access log", documents the fields.

import type { Logger } from 'pino';

export interface AccessRecord {
  /** null when Node could not make a request of what the client sent. */
  method: string | null;
  path: string | null;
  /** What the client was sent; 0 when no response began. */
  status: number;
  duration_ms: number | null;
  route: string | null;
  cluster: string | null;
  /** The filters that ran. */
  filters: string[];
  /** Envoy's response code details. */
  details: string;
  bytes_in: number;
  bytes_out: number;
  /** Set when the response did not finish. */
  incomplete?: true;
  /** The filters that trapped. */
  traps?: string[];
}

/** Writes one access line at `info`; callers check the level first, before building the record. */
export function logAccess(logger: Logger, access: AccessRecord): void {
  logger.info({ access }, 'request');
}
