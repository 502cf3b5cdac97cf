// undici's Pool, without the rest of undici. The package's entry point loads all of it (fetch,
// WebSocket, cookies, ...), and one of those modules reads globalThis.Headers, which makes Node
// load its own bundled copy of undici as well: ~90 ms per thread at start-up (measured without
// a compile cache), for nothing the proxy uses. The package has no exports map, so its own file
// is reachable; test/unit/startup-loads.test.ts checks it is still the class the entry exports.
// A static import (rather than `createRequire`) lets the worker bundle include it
// (scripts/bundle.ts).

import type { Pool as UndiciPool } from 'undici';
// @ts-expect-error: undici ships declarations for its entry point only
import PoolClass from 'undici/lib/dispatcher/pool.js';

export const Pool = PoolClass as typeof UndiciPool;
export type Pool = UndiciPool;
