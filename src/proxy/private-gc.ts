// V8's gc() for this thread, from its gc extension, without exposing a `gc` global.
// --expose-gc is process-wide and puts `gc` into contexts created while it is set: it is set for
// one private context only, so no other code (a restarted worker, a vm context) sees `gc`.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type GcFunction = (options: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => unknown;

/** The gc function, or null if V8 would not give one (callers then leave GC to V8). */
export function privateGc(): GcFunction | null {
  // Workers starting together race on the flag (one clears it between another's set and its
  // context): so check, and try again.
  for (let attempt = 0; attempt < 100; attempt++) {
    setFlagsFromString('--expose-gc');
    let gc: unknown;
    try {
      gc = runInNewContext('typeof gc === "function" ? gc : undefined');
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
    if (typeof gc === 'function') return gc as GcFunction;
  }
  return null;
}
