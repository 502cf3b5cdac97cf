import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defer, inStep, setDeferredErrorHandler, step } from '../../src/abi/deferred.ts';

let errors: unknown[] = [];

beforeEach(() => {
  errors = [];
  setDeferredErrorHandler((err) => errors.push(err));
});

afterEach(() => {
  // Leave no step open and no handler pointing at this file's array.
  expect(inStep()).toBe(false);
  setDeferredErrorHandler(() => {});
});

describe('deferred actions', () => {
  it('defer outside any step runs at once (inside a step of its own)', () => {
    const log: string[] = [];
    defer(() => log.push(`action inStep=${inStep()}`));
    log.push('after');
    expect(log).toEqual(['action inStep=true', 'after']);
  });

  it('step returns the value of fn and reports inStep while running', () => {
    expect(inStep()).toBe(false);
    const value = step(() => {
      expect(inStep()).toBe(true);
      return 42;
    });
    expect(value).toBe(42);
    expect(inStep()).toBe(false);
  });

  it('defer inside a step waits until the step returns, then runs in order', () => {
    const log: string[] = [];
    step(() => {
      log.push('step start');
      defer(() => log.push('a'));
      defer(() => log.push('b'));
      log.push('step end');
    });
    log.push('after step');
    expect(log).toEqual(['step start', 'step end', 'a', 'b', 'after step']);
  });

  it('nested steps run deferred actions only when the outermost returns', () => {
    const log: string[] = [];
    step(() => {
      step(() => {
        defer(() => log.push('from inner'));
        log.push('inner end');
      });
      log.push('outer continues');
      defer(() => log.push('from outer'));
      log.push('outer end');
    });
    expect(log).toEqual(['inner end', 'outer continues', 'outer end', 'from inner', 'from outer']);
  });

  it('actions deferred by a deferred action run after it, in the same drain', () => {
    const log: string[] = [];
    step(() => {
      defer(() => {
        log.push('first');
        defer(() => log.push('third (deferred by first)'));
        log.push('first end');
      });
      defer(() => log.push('second'));
    });
    expect(log).toEqual(['first', 'first end', 'second', 'third (deferred by first)']);
  });

  it('a step opened by a deferred action does not drain early', () => {
    const log: string[] = [];
    step(() => {
      defer(() => {
        step(() => {
          defer(() => log.push('queued inside inner step'));
        });
        log.push('after inner step');
      });
      defer(() => log.push('second'));
    });
    expect(log).toEqual(['after inner step', 'second', 'queued inside inner step']);
  });

  it('errors from deferred actions go to the handler and later actions still run', () => {
    const log: string[] = [];
    const boom = new Error('boom');
    step(() => {
      defer(() => log.push('a'));
      defer(() => {
        throw boom;
      });
      defer(() => log.push('c'));
    });
    expect(log).toEqual(['a', 'c']);
    expect(errors).toEqual([boom]);
  });

  it('an error thrown by the step itself propagates after its deferred actions ran', () => {
    const log: string[] = [];
    const err = new Error('step failed');
    expect(() =>
      step(() => {
        defer(() => log.push('deferred'));
        throw err;
      }),
    ).toThrow(err);
    expect(log).toEqual(['deferred']);
    expect(errors).toEqual([]);
  });

  it('a failing action deferred outside a step propagates (it runs inline)', () => {
    const err = new Error('inline');
    expect(() =>
      defer(() => {
        throw err;
      }),
    ).toThrow(err);
    expect(errors).toEqual([]);
  });

  it('the queue is empty after a drain: a later step does not rerun old actions', () => {
    let runs = 0;
    step(() => defer(() => runs++));
    step(() => {});
    expect(runs).toBe(1);
  });
});
