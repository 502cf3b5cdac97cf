// The base classes of the bundled filters' stream contexts.
import { Context } from "@solo-io/proxy-runtime";
import { rootAddress } from "./raw";
import { referenceCount } from "./objects";

// The SDK's own Context logs a debug string from onLog, onDone and onDelete on every request,
// built even when debug is off.
export class QuietContext extends Context {
  onLog(): void {}
  onDone(): bool {
    return true;
  }
  onDelete(): void {}
}

// A stream context that serves stream after stream: once deleted, it is kept and handed to the
// next stream of the same root instead of being freed and a new one allocated (the allocator's
// split and merge, the constructor's references: ~600 instructions a request). Only when
// nothing else holds it: not while an http_call still waits for its answer, for example.
export class RecycledContext extends QuietContext {
  // Sets every per-stream field to its starting value. Subclasses call it from their
  // constructor too, so the starting values are written in one place.
  reset(): void {}
}

// Deleted contexts waiting for their next stream, as addresses: each holds the reference the
// stream table had. Few are needed: a VM's streams end about as often as new ones start.
class Recycler {
  private slots: usize = memory.data(<i32>(RECYCLED_MAX * sizeof<usize>()));
  private count: u32 = 0;

  // A recycled context, or 0 when none is waiting.
  take(): usize {
    if (this.count == 0) return 0;
    this.count--;
    return load<usize>(this.slots + <usize>this.count * sizeof<usize>());
  }

  // Keeps a deleted context of `root` for reuse; false when it cannot be (the caller then
  // releases it).
  keep(ctx: usize, root: usize): bool {
    if (this.count == RECYCLED_MAX || referenceCount(ctx) != 1 || rootAddress(ctx) != root) return false;
    if (!(changetype<Context>(ctx) instanceof RecycledContext)) return false;
    store<usize>(this.slots + <usize>this.count * sizeof<usize>(), ctx);
    this.count++;
    return true;
  }

  // Frees every waiting context.
  clear(): void {
    while (this.count > 0) __release(this.take());
  }
}

const RECYCLED_MAX: u32 = 8;
export const recycledContexts = new Recycler();
