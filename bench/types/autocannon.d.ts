// The part of autocannon's programmatic API the harness uses (the package ships no types, and
// the project adds no @types package for it).
declare module 'autocannon' {
  interface Options {
    url: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Total requests to send instead of a duration. */
    amount?: number;
    headers?: Record<string, string>;
  }
  interface Result {
    '2xx': number;
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  /** What autocannon returns: the run's result (it is thenable) and its events. */
  interface Instance extends Promise<Result> {
    /** Once a second, with the answers of that second. */
    on(event: 'tick', listener: (tick: { counter: number; bytes: number }) => void): this;
    /** Ends the run; the result covers what was answered so far. */
    stop(): void;
  }
  function autocannon(options: Options): Instance;
  export default autocannon;
}
