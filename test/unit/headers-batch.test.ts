// Headers frames pushed within one event-loop turn walk the filter chain together, stage by
// stage (src/proxy/headers-batch.ts); what comes behind a batched frame follows it in order.

import { describe, expect, it } from 'vitest';
import { Action } from '../../src/abi/types.ts';
import { HeadersBatcher, QUIET_TURNS_BEFORE_DIRECT, SAMPLE_EVERY, type StageRunner } from '../../src/proxy/headers-batch.ts';
import { FrameKind, Pipeline, type Sink, type StageFilter } from '../../src/proxy/pipeline.ts';

const { CONTINUE, PAUSE } = Action;

/** Everything that happens, in order, across every pipeline of a test. */
type Log = string[];

class LoggingFilter implements StageFilter {
  readonly name: string;
  readonly log: Log;
  readonly answer: (name: string) => Action;
  constructor(name: string, log: Log, answer: (name: string) => Action = () => CONTINUE) {
    this.name = name;
    this.log = log;
    this.answer = answer;
  }
  onHeaders(): Action {
    this.log.push(`${this.name}.headers`);
    return this.answer(this.name);
  }
  onBody(_p: Pipeline, size: number, eos: boolean): Action {
    this.log.push(`${this.name}.body(${size},${eos})`);
    return CONTINUE;
  }
  onTrailers(): Action {
    this.log.push(`${this.name}.trailers`);
    return CONTINUE;
  }
}

class LoggingSink implements Sink {
  readonly name: string;
  readonly log: Log;
  constructor(name: string, log: Log) {
    this.name = name;
    this.log = log;
  }
  headers(eos: boolean): void {
    this.log.push(`${this.name}:sink.headers(${eos})`);
  }
  data(chunk: Buffer, eos: boolean): void {
    this.log.push(`${this.name}:sink.data(${chunk.toString()},${eos})`);
  }
  trailers(): void {
    this.log.push(`${this.name}:sink.trailers`);
  }
}

/** Runs each stage as a stream does (HttpStream.walkHeadersStage): a failure stops that stream only. */
class Runner implements StageRunner {
  readonly headersBatcher = new HeadersBatcher();
  fail: Pipeline | null = null;
  walkHeadersStage(pipeline: Pipeline, stage: number): boolean {
    try {
      if (pipeline === this.fail) throw new Error('boom');
      return pipeline.walkHeaders(stage);
    } catch {
      pipeline.stop();
      return false;
    }
  }
}

function stream(name: string, log: Log, runner: Runner, filters = 3, answer?: (filter: string) => Action): Pipeline {
  const chain = Array.from({ length: filters }, (_, i) => new LoggingFilter(`${name}${i}`, log, answer));
  const pipeline = new Pipeline(chain, new LoggingSink(name, log), 1024);
  pipeline.batchRunner = runner;
  return pipeline;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('headers batch', () => {
  it('walks the headers of every stream pushed in one turn stage by stage, then each into its sink', async () => {
    const log: Log = [];
    const runner = new Runner();
    const a = stream('a', log, runner);
    const b = stream('b', log, runner, 1);
    const c = stream('c', log, runner, 0);
    for (const p of [a, b, c]) p.push({ kind: FrameKind.HEADERS, eos: true });
    expect(log).toEqual([]); // nothing runs until the poll phase is over
    await turn();
    expect(log).toEqual(['a0.headers', 'b0.headers', 'c:sink.headers(true)', 'a1.headers', 'b:sink.headers(true)', 'a2.headers', 'a:sink.headers(true)']);
  });

  it('keeps frames pushed behind batched headers, and lets them follow in order', async () => {
    const log: Log = [];
    const a = stream('a', log, new Runner(), 2);
    a.push({ kind: FrameKind.HEADERS, eos: false });
    a.push({ kind: FrameKind.DATA, chunk: Buffer.from('x'), eos: false });
    a.push({ kind: FrameKind.TRAILERS });
    expect(log).toEqual([]);
    await turn();
    expect(log).toEqual(['a0.headers', 'a1.headers', 'a:sink.headers(false)', 'a0.body(1,false)', 'a1.body(1,false)', 'a:sink.data(x,false)', 'a0.trailers', 'a1.trailers', 'a:sink.trailers']);
    // Once walked, the pipeline's frames flow at once again.
    log.length = 0;
    a.push({ kind: FrameKind.DATA, chunk: Buffer.from('late'), eos: true });
    expect(log).toEqual(['a0.body(4,true)', 'a1.body(4,true)', 'a:sink.data(late,true)']);
  });

  it('pauses a source that hands over more than 64 KiB behind batched headers, until they have gone on', async () => {
    const log: Log = [];
    const a = stream('a', log, new Runner(), 1);
    const source = { pauses: 0, resumes: 0, pause() { this.pauses++; }, resume() { this.resumes++; } };
    a.setSource(source);
    a.push({ kind: FrameKind.HEADERS, eos: false });
    a.push({ kind: FrameKind.DATA, chunk: Buffer.alloc(1000), eos: false });
    expect(source.pauses).toBe(0); // a small body behind its headers costs no pause
    a.push({ kind: FrameKind.DATA, chunk: Buffer.alloc(64 * 1024), eos: false });
    a.push({ kind: FrameKind.DATA, chunk: Buffer.alloc(64 * 1024), eos: false });
    expect(source).toMatchObject({ pauses: 1, resumes: 0 });
    await turn();
    expect(source).toMatchObject({ pauses: 1, resumes: 1 });
    expect(log.filter((l) => l.startsWith('a:sink.data')).length).toBe(3);
  });

  it('stops walking a stream whose filter holds its headers: its body queues at that stage until it continues', async () => {
    const log: Log = [];
    const a = stream('a', log, new Runner(), 3, (name) => (name === 'a1' ? PAUSE : CONTINUE));
    const b = stream('b', log, a.batchRunner as Runner, 2);
    a.push({ kind: FrameKind.HEADERS, eos: false });
    b.push({ kind: FrameKind.HEADERS, eos: true });
    a.push({ kind: FrameKind.DATA, chunk: Buffer.from('x'), eos: true });
    await turn();
    // a's body follows as soon as its headers stop, while the batch goes on with b.
    expect(log).toEqual(['a0.headers', 'b0.headers', 'a1.headers', 'a0.body(1,true)', 'b1.headers', 'b:sink.headers(true)']);
    log.length = 0;
    a.resume(1);
    expect(log).toEqual(['a2.headers', 'a:sink.headers(false)', 'a1.body(1,true)', 'a2.body(1,true)', 'a:sink.data(x,true)']);
  });

  it('skips a stream stopped while it waited, and one whose runner fails, without stopping the others', async () => {
    const log: Log = [];
    const runner = new Runner();
    const a = stream('a', log, runner, 2);
    const b = stream('b', log, runner, 2);
    const c = stream('c', log, runner, 2);
    for (const p of [a, b, c]) p.push({ kind: FrameKind.HEADERS, eos: true });
    a.stop(); // the client went away before the turn ended
    runner.fail = b;
    await turn();
    expect(log).toEqual(['c0.headers', 'c1.headers', 'c:sink.headers(true)']);
    expect(b.stopped).toBe(true);
    // The batch machinery goes on after a failed step: the next turn walks as usual.
    runner.fail = null;
    const d = stream('d', log, runner, 1);
    d.push({ kind: FrameKind.HEADERS, eos: true });
    await turn();
    expect(log.slice(-2)).toEqual(['d0.headers', 'd:sink.headers(true)']);
  });

  it('walks a stream that joins during a walk in the same turn (a local reply)', async () => {
    const log: Log = [];
    const runner = new Runner();
    const reply = stream('reply', log, runner, 1);
    const a = stream('a', log, runner, 1, () => {
      reply.push({ kind: FrameKind.HEADERS, eos: true });
      return PAUSE;
    });
    a.push({ kind: FrameKind.HEADERS, eos: true });
    await turn();
    expect(log).toEqual(['a0.headers', 'reply0.headers', 'reply:sink.headers(true)']);
  });

  it('walks at once after turns that bring one stream each, and batches again once a sampled turn brings more', async () => {
    const log: Log = [];
    const runner = new Runner();
    let n = 0;
    // Streams s0, s1, ..., each with one filter (s00, s10, ...).
    const names: string[] = [];
    const next = () => {
      names.push(`s${n}`);
      return stream(`s${n++}`, log, runner, 1);
    };
    for (let i = 0; i < QUIET_TURNS_BEFORE_DIRECT; i++) {
      expect(runner.headersBatcher.direct).toBe(false);
      next().push({ kind: FrameKind.HEADERS, eos: true });
      expect(log).toEqual([]); // still batched: waits for the turn
      await turn();
      log.length = 0;
    }
    expect(runner.headersBatcher.direct).toBe(true);
    // Walking at once, a stream's frames flow as they come, with nothing held behind.
    const a = next();
    const an = names.at(-1);
    a.push({ kind: FrameKind.HEADERS, eos: false });
    a.push({ kind: FrameKind.DATA, chunk: Buffer.from('x'), eos: true });
    expect(log).toEqual([`${an}0.headers`, `${an}:sink.headers(false)`, `${an}0.body(1,true)`, `${an}:sink.data(x,true)`]);
    log.length = 0;
    // Every SAMPLE_EVERY-th headers frame waits for its turn, and those behind it in the turn join.
    for (let i = 2; i < SAMPLE_EVERY; i++) next().push({ kind: FrameKind.HEADERS, eos: true });
    expect(log.length).toBe(2 * (SAMPLE_EVERY - 2));
    log.length = 0;
    next().push({ kind: FrameKind.HEADERS, eos: true });
    next().push({ kind: FrameKind.HEADERS, eos: true });
    expect(log).toEqual([]);
    await turn();
    const [x, y] = names.slice(-2);
    expect(log).toEqual([`${x}0.headers`, `${y}0.headers`, `${x}:sink.headers(true)`, `${y}:sink.headers(true)`]);
    // Two in one turn: batching is back for the next frame.
    expect(runner.headersBatcher.direct).toBe(false);
    log.length = 0;
    next().push({ kind: FrameKind.HEADERS, eos: true });
    expect(log).toEqual([]);
    await turn();
    expect(log.length).toBe(2);
  });

  it('without a runner, headers walk at once (the pipeline alone, as in unit tests and the ABI harness)', () => {
    const log: Log = [];
    const p = new Pipeline([new LoggingFilter('p0', log)], new LoggingSink('p', log), 1024);
    p.push({ kind: FrameKind.HEADERS, eos: true });
    expect(log).toEqual(['p0.headers', 'p:sink.headers(true)']);
  });
});
