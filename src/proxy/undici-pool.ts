// undici's Pool, without the rest of undici. The package's entry point loads all of it (fetch,
// WebSocket, cookies, ...), and one of those modules reads globalThis.Headers, which makes Node
// load its own bundled copy of undici as well: ~90 ms per thread at start-up (measured without
// a compile cache), for nothing the proxy uses. The package has no exports map, so its own file
// is reachable; test/unit/startup-loads.test.ts checks it is still the class the entry exports.

import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;
