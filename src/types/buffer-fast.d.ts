// Node's Buffer has had these encoding-specific fast paths since v0.x; @types/node does not
// declare them. They skip the encoding lookup of toString()/write(), which matters on the
// per-request path (see docs/RATIONALE.md).
declare global {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    utf8Slice(start: number, end: number): string;
    latin1Write(value: string, offset: number, length?: number): number;
    utf8Write(value: string, offset: number, length?: number): number;
  }
}
export {};
