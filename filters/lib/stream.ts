// The base class of the bundled filters' stream contexts: the SDK's own Context logs a debug
// string from onLog, onDone and onDelete on every request, built even when debug is off.
import { Context } from "@solo-io/proxy-runtime";

export class QuietContext extends Context {
  onLog(): void {}
  onDone(): bool {
    return true;
  }
  onDelete(): void {}
}
