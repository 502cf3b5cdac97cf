import { describe, expect, it } from 'vitest';
import { Action } from '../../src/abi/types.ts';
import { FrameKind, Pipeline, type FlowSource, type Frame, type Sink, type StageFilter } from '../../src/proxy/pipeline.ts';

const { CONTINUE, PAUSE } = Action;

type SinkEvent = ['headers', boolean] | ['data', string, boolean] | ['trailers'];

class RecordingSink implements Sink {
  events: SinkEvent[] = [];
  headers(eos: boolean): void {
    this.events.push(['headers', eos]);
  }
  data(chunk: Buffer, eos: boolean): void {
    this.events.push(['data', chunk.toString('latin1'), eos]);
  }
  trailers(): void {
    this.events.push(['trailers']);
  }
}

class CountingSource implements FlowSource {
  pauses = 0;
  resumes = 0;
  pause(): void {
    this.pauses++;
  }
  resume(): void {
    this.resumes++;
  }
}

/** What a hook is handed: the pipeline, and the body its filter sees now (bodyAt). */
interface StageView {
  pipeline: Pipeline;
  body: ReturnType<Pipeline['bodyAt']>;
}

type Hook<A extends unknown[]> = (stage: StageView, ...args: A) => Action | void;

/**
 * A filter whose answers are scripted: each callback takes the next action from its list
 * (CONTINUE once the list is used up), or a hook may decide. Every call is logged.
 */
class ScriptedFilter implements StageFilter {
  readonly log: string[];
  readonly name: string;
  headersActions: Action[] = [];
  bodyActions: Action[] = [];
  trailersActions: Action[] = [];
  onHeadersHook?: Hook<[boolean]>;
  onBodyHook?: Hook<[number, boolean]>;
  onTrailersHook?: Hook<[]>;
  /** The body content the filter saw on each body callback. */
  seenBodies: string[] = [];
  /** Set to false for a filter with no body callback (handlesBody). */
  hasBodyCallback = true;

  /** Its stage in the pipeline under test. */
  readonly index: number;

  constructor(name: string, index: number, log: string[]) {
    this.name = name;
    this.index = index;
    this.log = log;
  }

  #view(pipeline: Pipeline): StageView {
    return { pipeline, body: pipeline.bodyAt(this.index) };
  }

  onHeaders(pipeline: Pipeline, eos: boolean): Action {
    this.log.push(`${this.name}.headers(eos=${eos})`);
    return this.onHeadersHook?.(this.#view(pipeline), eos) ?? this.headersActions.shift() ?? CONTINUE;
  }

  onBody(pipeline: Pipeline, size: number, eos: boolean): Action {
    this.log.push(`${this.name}.body(${size}, eos=${eos})`);
    const stage = this.#view(pipeline);
    this.seenBodies.push(stage.body!.bytes().toString('latin1'));
    return this.onBodyHook?.(stage, size, eos) ?? this.bodyActions.shift() ?? CONTINUE;
  }

  handlesBody(_pipeline: Pipeline): boolean {
    return this.hasBodyCallback;
  }

  onTrailers(pipeline: Pipeline): Action {
    this.log.push(`${this.name}.trailers`);
    return this.onTrailersHook?.(this.#view(pipeline)) ?? this.trailersActions.shift() ?? CONTINUE;
  }
}

function setup(filterCount: number, bufferLimit = 1024) {
  const log: string[] = [];
  const filters = Array.from({ length: filterCount }, (_, i) => new ScriptedFilter(`f${i}`, i, log));
  const sink = new RecordingSink();
  const pipeline = new Pipeline(filters, sink, bufferLimit);
  const source = new CountingSource();
  pipeline.setSource(source);
  return { log, filters, sink, pipeline, source };
}

const headers = (eos = false): Frame => ({ kind: FrameKind.HEADERS, eos });
const data = (s: string, eos = false): Frame => ({ kind: FrameKind.DATA, chunk: Buffer.from(s, 'latin1'), eos });
const trailers = (): Frame => ({ kind: FrameKind.TRAILERS });

describe('Pipeline pass-through', () => {
  it('with no filters, frames go straight to the sink', () => {
    const { sink, pipeline, source } = setup(0);
    pipeline.push(headers());
    pipeline.push(data('abc'));
    pipeline.push(trailers());
    expect(sink.events).toEqual([['headers', false], ['data', 'abc', false], ['trailers']]);
    expect(source.pauses).toBe(0);
  });

  it('continuing filters see every frame in order and chunks pass one by one', () => {
    const { log, sink, pipeline, filters, source } = setup(2);
    pipeline.push(headers());
    pipeline.push(data('ab'));
    pipeline.push(data('cd', true));
    expect(log).toEqual([
      'f0.headers(eos=false)',
      'f1.headers(eos=false)',
      'f0.body(2, eos=false)',
      'f1.body(2, eos=false)',
      'f0.body(2, eos=true)',
      'f1.body(2, eos=true)',
    ]);
    expect(filters[1]!.seenBodies).toEqual(['ab', 'cd']);
    expect(sink.events).toEqual([
      ['headers', false],
      ['data', 'ab', false],
      ['data', 'cd', true],
    ]);
    expect(source.pauses).toBe(0);
    expect(pipeline.bodyEdited).toBe(false);
  });

  it('headers-only requests carry eos through', () => {
    const { sink, pipeline } = setup(1);
    pipeline.push(headers(true));
    expect(sink.events).toEqual([['headers', true]]);
    expect(pipeline.headersEos).toBe(true);
  });

  it('a filter without a body callback is not asked about chunks, which pass it as they are', () => {
    const { log, sink, pipeline, filters } = setup(3);
    filters[0]!.hasBodyCallback = false;
    filters[2]!.hasBodyCallback = false;
    const chunk = data('ab');
    pipeline.push(headers());
    pipeline.push(chunk);
    pipeline.push(data('cd', true));
    pipeline.push(trailers());
    expect(log).toEqual([
      'f0.headers(eos=false)',
      'f1.headers(eos=false)',
      'f2.headers(eos=false)',
      'f1.body(2, eos=false)',
      'f1.body(2, eos=true)',
      'f0.trailers',
      'f1.trailers',
      'f2.trailers',
    ]);
    expect(sink.events).toEqual([['headers', false], ['data', 'ab', false], ['data', 'cd', true], ['trailers']]);
    expect(pipeline.bodyAt(0)).toBeNull();
  });

  it('chunks queued behind a paused filter without a body callback pass it once it resumes', () => {
    const { log, sink, pipeline, filters } = setup(2);
    filters[0]!.hasBodyCallback = false;
    filters[0]!.headersActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('ab', true));
    expect(sink.events).toEqual([]);
    pipeline.resume(0);
    expect(log).toEqual(['f0.headers(eos=false)', 'f1.headers(eos=false)', 'f1.body(2, eos=true)']);
    expect(sink.events).toEqual([['headers', false], ['data', 'ab', true]]);
  });

  it('bodyAt is null once a chunk is continued', () => {
    const { pipeline } = setup(1);
    pipeline.push(headers());
    pipeline.push(data('x'));
    expect(pipeline.bodyAt(0)).toBeNull();
  });
});

describe('headers pause', () => {
  it('holds later frames until resume(), then delivers them in order', () => {
    const { log, sink, pipeline, filters, source } = setup(1);
    filters[0]!.headersActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('one'));
    pipeline.push(data('two'));
    pipeline.push(trailers());

    expect(sink.events).toEqual([]);
    expect(log).toEqual(['f0.headers(eos=false)']); // body callbacks wait too
    expect(pipeline.held(0)).toBe(true);
    expect(source.pauses).toBe(1);

    pipeline.resume(0);
    expect(sink.events).toEqual([['headers', false], ['data', 'one', false], ['data', 'two', false], ['trailers']]);
    expect(log).toEqual(['f0.headers(eos=false)', 'f0.body(3, eos=false)', 'f0.body(3, eos=false)', 'f0.trailers']);
    expect(pipeline.held(0)).toBe(false);
    expect(source.resumes).toBe(1);
  });

  it('resumed headers keep their end-of-stream flag', () => {
    const { sink, pipeline, filters } = setup(1);
    filters[0]!.headersActions = [PAUSE];
    pipeline.push(headers(true));
    expect(sink.events).toEqual([]);
    pipeline.resume(0);
    expect(sink.events).toEqual([['headers', true]]);
  });

  it('a pause in a later stage keeps frames from later filters and the sink, not earlier ones', () => {
    const { log, sink, pipeline, filters } = setup(3);
    filters[1]!.headersActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('abc', true));
    expect(log).toEqual(['f0.headers(eos=false)', 'f1.headers(eos=false)', 'f0.body(3, eos=true)']);
    expect(sink.events).toEqual([]);

    pipeline.resume(1);
    expect(log).toEqual([
      'f0.headers(eos=false)',
      'f1.headers(eos=false)',
      'f0.body(3, eos=true)',
      'f2.headers(eos=false)',
      'f1.body(3, eos=true)',
      'f2.body(3, eos=true)',
    ]);
    expect(sink.events).toEqual([['headers', false], ['data', 'abc', true]]);
  });

  it('frames arriving after resume() flow normally', () => {
    const { sink, pipeline, filters } = setup(1);
    filters[0]!.headersActions = [PAUSE];
    pipeline.push(headers());
    pipeline.resume(0);
    pipeline.push(data('late', true));
    expect(sink.events).toEqual([['headers', false], ['data', 'late', true]]);
  });

  it('a frame pushed re-entrantly while the queue drains waits behind the queued frames', () => {
    // A source may emit synchronously when resumed; the released stage must keep arrival order.
    const { sink, pipeline, filters } = setup(1);
    let pushed = false;
    pipeline.setSource({
      pause: () => {},
      resume: () => {
        if (pushed) return;
        pushed = true;
        pipeline.push(data('third', true));
      },
    });
    filters[0]!.headersActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('first'));
    pipeline.push(data('second'));
    pipeline.resume(0);
    expect(pushed).toBe(true);
    expect(sink.events).toEqual([
      ['headers', false],
      ['data', 'first', false],
      ['data', 'second', false],
      ['data', 'third', true],
    ]);
    expect(filters[0]!.seenBodies).toEqual(['first', 'second', 'third']);
  });

  it('a queued frame that pauses again stops the drain at that frame', () => {
    const { sink, pipeline, filters, source } = setup(1);
    filters[0]!.headersActions = [PAUSE];
    filters[0]!.trailersActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('d'));
    pipeline.push(trailers());
    pipeline.resume(0);
    expect(sink.events).toEqual([['headers', false], ['data', 'd', false]]);
    expect(pipeline.held(0)).toBe(true);
    // release for the headers hold, pause again for the trailers hold
    expect(source.pauses).toBe(2);
    expect(source.resumes).toBe(1);
    pipeline.resume(0);
    expect(sink.events).toEqual([['headers', false], ['data', 'd', false], ['trailers']]);
    expect(source.resumes).toBe(2);
  });
});

describe('body pause (buffering)', () => {
  it('buffers chunks; each later callback sees the whole body so far', () => {
    const { log, sink, pipeline, filters } = setup(1);
    filters[0]!.bodyActions = [PAUSE, PAUSE, CONTINUE];
    pipeline.push(headers());
    pipeline.push(data('aaa'));
    pipeline.push(data('bb'));
    expect(sink.events).toEqual([['headers', false]]);
    pipeline.push(data('c', true));
    expect(log.slice(1)).toEqual(['f0.body(3, eos=false)', 'f0.body(5, eos=false)', 'f0.body(6, eos=true)']);
    expect(filters[0]!.seenBodies).toEqual(['aaa', 'aaabb', 'aaabbc']);
    // continue releases everything as one chunk
    expect(sink.events).toEqual([['headers', false], ['data', 'aaabbc', true]]);
    expect(pipeline.bodyAt(0)).toBeNull();
  });

  it('does not hold the source: buffering is not a hold', () => {
    const { pipeline, filters, source } = setup(1);
    filters[0]!.bodyActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('x'));
    expect(pipeline.held(0)).toBe(false);
    expect(source.pauses).toBe(0);
  });

  it('the next filter sees the released body once with its full size', () => {
    const { log, sink, pipeline, filters } = setup(2);
    filters[0]!.bodyActions = [PAUSE, CONTINUE];
    pipeline.push(headers());
    pipeline.push(data('12'));
    pipeline.push(data('345'));
    expect(log.filter((l) => l.startsWith('f1.body'))).toEqual(['f1.body(5, eos=false)']);
    expect(filters[1]!.seenBodies).toEqual(['12345']);
    expect(sink.events).toEqual([['headers', false], ['data', '12345', false]]);
  });

  it('a chunk continued after a resumed buffer streams alone', () => {
    const { sink, pipeline, filters } = setup(1);
    filters[0]!.bodyActions = [PAUSE, CONTINUE, CONTINUE];
    pipeline.push(headers());
    pipeline.push(data('a'));
    pipeline.push(data('b'));
    pipeline.push(data('c', true));
    expect(sink.events).toEqual([['headers', false], ['data', 'ab', false], ['data', 'c', true]]);
  });

  it('resume() after buffering up to end of stream forwards the body with eos', () => {
    const { sink, pipeline, filters } = setup(1);
    filters[0]!.bodyActions = [PAUSE, PAUSE];
    pipeline.push(headers());
    pipeline.push(data('part1-'));
    pipeline.push(data('part2', true));
    expect(sink.events).toEqual([['headers', false]]);
    pipeline.resume(0);
    expect(sink.events).toEqual([['headers', false], ['data', 'part1-part2', true]]);
    expect(pipeline.bodyAt(0)).toBeNull();
  });

  it('resume() while buffering mid-stream forwards what is buffered without eos', () => {
    const { sink, pipeline, filters } = setup(1);
    filters[0]!.bodyActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('early'));
    pipeline.resume(0);
    expect(sink.events).toEqual([['headers', false], ['data', 'early', false]]);
    pipeline.push(data('late', true));
    expect(sink.events).toEqual([['headers', false], ['data', 'early', false], ['data', 'late', true]]);
  });

  it('an empty eos chunk paused and resumed still delivers eos', () => {
    const { sink, pipeline, filters } = setup(1);
    filters[0]!.bodyActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('', true));
    expect(filters[0]!.log).toEqual(['f0.headers(eos=false)', 'f0.body(0, eos=true)']);
    pipeline.resume(0);
    expect(sink.events).toEqual([['headers', false], ['data', '', true]]);
  });

  it('trailers continued after a buffered body release the body first', () => {
    const { sink, pipeline, filters } = setup(1);
    filters[0]!.bodyActions = [PAUSE, PAUSE];
    pipeline.push(headers());
    pipeline.push(data('x'));
    pipeline.push(data('y'));
    pipeline.push(trailers());
    expect(sink.events).toEqual([['headers', false], ['data', 'xy', false], ['trailers']]);
  });

  it('calls onOverflow when the buffered body exceeds bufferLimit, without calling the filter', () => {
    const { log, sink, pipeline, filters } = setup(1, 5);
    const overflowed: number[] = [];
    pipeline.onOverflow = (stage) => overflowed.push(stage);
    filters[0]!.bodyActions = [PAUSE, PAUSE, PAUSE];
    pipeline.push(headers());
    pipeline.push(data('abc'));
    pipeline.push(data('de')); // exactly 5: still fine
    expect(overflowed).toEqual([]);
    pipeline.push(data('f')); // 6 > 5
    expect(overflowed).toEqual([0]);
    expect(log.slice(1)).toEqual(['f0.body(3, eos=false)', 'f0.body(5, eos=false)']);
    expect(sink.events).toEqual([['headers', false]]);
  });

  it('overflows when a filter pauses on a single chunk already over the limit', () => {
    // e.g. a small Content-Length body arriving in one read with eos: no later append to check
    const { sink, pipeline, filters } = setup(1, 4);
    const overflowed: number[] = [];
    pipeline.onOverflow = (stage) => overflowed.push(stage);
    filters[0]!.bodyActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('too-long', true));
    expect(overflowed).toEqual([0]);
    expect(sink.events).toEqual([['headers', false]]);
  });

  it('pausing on a chunk exactly at the limit does not overflow', () => {
    const { pipeline, filters } = setup(1, 4);
    let overflows = 0;
    pipeline.onOverflow = () => overflows++;
    filters[0]!.bodyActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('four', true));
    expect(overflows).toBe(0);
  });

  it('a streaming (continuing) filter never overflows', () => {
    const { pipeline } = setup(1, 2);
    let overflows = 0;
    pipeline.onOverflow = () => overflows++;
    pipeline.push(headers());
    pipeline.push(data('aaaa'));
    pipeline.push(data('bbbb'));
    expect(overflows).toBe(0);
  });
});

describe('trailers pause', () => {
  it('holds the trailers until resume()', () => {
    const { sink, pipeline, filters, source } = setup(2);
    filters[0]!.trailersActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('b'));
    pipeline.push(trailers());
    expect(sink.events).toEqual([['headers', false], ['data', 'b', false]]);
    expect(filters[1]!.log).not.toContain('f1.trailers');
    expect(source.pauses).toBe(1);
    pipeline.resume(0);
    expect(sink.events).toEqual([['headers', false], ['data', 'b', false], ['trailers']]);
    expect(filters[1]!.log.at(-1)).toBe('f1.trailers');
    expect(source.resumes).toBe(1);
  });

  it('resume() releases a buffered body before the held trailers', () => {
    const { sink, pipeline, filters } = setup(1);
    filters[0]!.bodyActions = [PAUSE];
    filters[0]!.trailersActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('buffered'));
    pipeline.push(trailers());
    expect(sink.events).toEqual([['headers', false]]);
    pipeline.resume(0);
    expect(sink.events).toEqual([['headers', false], ['data', 'buffered', false], ['trailers']]);
  });
});

describe('resume() with nothing held', () => {
  it('is a no-op', () => {
    const { sink, pipeline, source, log } = setup(2);
    pipeline.resume(0);
    pipeline.resume(1);
    expect(sink.events).toEqual([]);
    pipeline.push(headers());
    pipeline.resume(0);
    pipeline.resume(1);
    expect(sink.events).toEqual([['headers', false]]);
    expect(log).toEqual(['f0.headers(eos=false)', 'f1.headers(eos=false)']);
    expect(source.pauses).toBe(0);
    expect(source.resumes).toBe(0);
  });

  it('a second resume() after a headers pause does not forward again', () => {
    const { sink, pipeline, filters, source } = setup(1);
    filters[0]!.headersActions = [PAUSE];
    pipeline.push(headers());
    pipeline.resume(0);
    pipeline.resume(0);
    expect(sink.events).toEqual([['headers', false]]);
    expect(source.resumes).toBe(1);
  });
});

describe('stop()', () => {
  it('drops every later frame', () => {
    const { sink, pipeline, log } = setup(1);
    pipeline.push(headers());
    pipeline.stop();
    pipeline.push(data('x'));
    pipeline.push(trailers());
    expect(sink.events).toEqual([['headers', false]]);
    expect(log).toEqual(['f0.headers(eos=false)']);
    expect(pipeline.stopped).toBe(true);
  });

  it('a filter stopping the pipeline in its callback keeps the frame from going on', () => {
    const { sink, pipeline, filters, log } = setup(2);
    filters[0]!.onHeadersHook = (stage) => {
      stage.pipeline.stop();
      return CONTINUE;
    };
    pipeline.push(headers());
    expect(sink.events).toEqual([]);
    expect(log).toEqual(['f0.headers(eos=false)']);
  });

  it('a filter that stops the pipeline and answers Pause does not hold the source', () => {
    const { sink, pipeline, filters, source } = setup(1);
    filters[0]!.onHeadersHook = (stage) => {
      stage.pipeline.stop();
      return PAUSE;
    };
    pipeline.push(headers());
    expect(pipeline.held(0)).toBe(false);
    expect(source.pauses).toBe(0);
    expect(sink.events).toEqual([]);
  });

  it('a stop during a body callback drops the chunk', () => {
    const { sink, pipeline, filters } = setup(1);
    filters[0]!.onBodyHook = (stage) => {
      stage.pipeline.stop();
      return CONTINUE;
    };
    pipeline.push(headers());
    pipeline.push(data('gone', true));
    expect(sink.events).toEqual([['headers', false]]);
  });

  it('stop() while held resumes the source once and drops the queued frames', () => {
    const { sink, pipeline, filters, source, log } = setup(1);
    filters[0]!.headersActions = [PAUSE];
    pipeline.push(headers());
    pipeline.push(data('queued'));
    expect(source.pauses).toBe(1);
    pipeline.stop();
    expect(source.resumes).toBe(1);
    pipeline.resume(0);
    expect(sink.events).toEqual([]);
    expect(log).toEqual(['f0.headers(eos=false)']);
    expect(source.resumes).toBe(1);
  });

  it('stop() with nothing held does not touch the source', () => {
    const { pipeline, source } = setup(1);
    pipeline.stop();
    expect(source.pauses).toBe(0);
    expect(source.resumes).toBe(0);
  });
});

describe('hold / release and the flow source', () => {
  it('pauses on the first hold and resumes on the last release, once each', () => {
    const { pipeline, source } = setup(1);
    pipeline.hold();
    pipeline.hold();
    expect(source.pauses).toBe(1);
    pipeline.release();
    expect(source.resumes).toBe(0);
    pipeline.release();
    expect(source.resumes).toBe(1);
    // unmatched releases are ignored: the next hold still pauses
    pipeline.release();
    expect(source.resumes).toBe(1);
    expect(source.pauses).toBe(1);
    pipeline.hold();
    expect(source.pauses).toBe(2);
    pipeline.release();
    expect(source.resumes).toBe(2);
  });

  it('a stage hold and a sink hold overlap without extra pause/resume calls', () => {
    const { pipeline, filters, source } = setup(1);
    filters[0]!.headersActions = [PAUSE];
    pipeline.hold(); // e.g. the sink is full
    pipeline.push(headers());
    expect(source.pauses).toBe(1);
    pipeline.resume(0);
    expect(source.resumes).toBe(0);
    pipeline.release();
    expect(source.resumes).toBe(1);
  });

  it('a source attached while held is paused at once', () => {
    const log: string[] = [];
    const f = new ScriptedFilter('f0', 0, log);
    f.headersActions = [PAUSE];
    const pipeline = new Pipeline([f], new RecordingSink(), 1024);
    pipeline.push(headers());
    const source = new CountingSource();
    pipeline.setSource(source);
    expect(source.pauses).toBe(1);
    pipeline.resume(0);
    expect(source.resumes).toBe(1);
  });

  it('a source attached while nothing is held is left alone', () => {
    const pipeline = new Pipeline([], new RecordingSink(), 1024);
    const source = new CountingSource();
    pipeline.setSource(source);
    expect(source.pauses).toBe(0);
  });
});

describe('bodyEdited', () => {
  it('is set when a filter splices the exposed chunk, and the edit reaches the sink', () => {
    const { sink, pipeline, filters } = setup(2);
    filters[0]!.onBodyHook = (stage) => {
      stage.body!.splice(0, 0, Buffer.from('>>'));
    };
    pipeline.push(headers());
    pipeline.push(data('body', true));
    expect(pipeline.bodyEdited).toBe(true);
    expect(filters[1]!.seenBodies).toEqual(['>>body']);
    expect(sink.events).toEqual([['headers', false], ['data', '>>body', true]]);
  });

  it('is set when a filter rewrites a buffered body on the last callback', () => {
    const { sink, pipeline, filters } = setup(1);
    filters[0]!.onBodyHook = (stage, size, eos) => {
      if (!eos) return PAUSE;
      stage.body!.splice(0, size, Buffer.from('replaced'));
      return CONTINUE;
    };
    pipeline.push(headers());
    pipeline.push(data('orig-'));
    pipeline.push(data('inal', true));
    expect(pipeline.bodyEdited).toBe(true);
    expect(sink.events).toEqual([['headers', false], ['data', 'replaced', true]]);
  });

  it('stays false when filters only read the body', () => {
    const { pipeline, filters } = setup(1);
    filters[0]!.onBodyHook = (stage) => {
      stage.body!.read(0, 10);
    };
    pipeline.push(headers());
    pipeline.push(data('read-only', true));
    expect(pipeline.bodyEdited).toBe(false);
  });
});
