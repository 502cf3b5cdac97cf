import { describe, expect, it } from 'vitest';
import { BodyBuffer } from '../../src/abi/body-buffer.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('BodyBuffer', () => {
  it('starts empty, or with the initial chunk', () => {
    const empty = new BodyBuffer();
    expect(empty.length).toBe(0);
    expect(empty.bytes().length).toBe(0);
    expect(new BodyBuffer(Buffer.alloc(0)).length).toBe(0);
    const one = new BodyBuffer(b('hello'));
    expect(one.length).toBe(5);
    expect(one.bytes().toString()).toBe('hello');
  });

  it('appends chunks and joins them in order', () => {
    const body = new BodyBuffer(b('ab'));
    body.append(b('cd'));
    body.append(Buffer.alloc(0));
    body.append(b('e'));
    expect(body.length).toBe(5);
    expect(body.bytes().toString()).toBe('abcde');
    // joining does not change the content
    expect(body.bytes().toString()).toBe('abcde');
    expect(body.edits).toBe(0);
  });

  it('reset makes a chunk the whole body and forgets edits (a stage reuses one buffer)', () => {
    const body = new BodyBuffer(b('ab'));
    body.append(b('cd'));
    body.splice(0, 1, b('X'));
    expect(body.edits).toBe(1);
    body.reset(b('next'));
    expect([body.length, body.bytes().toString(), body.edits]).toEqual([4, 'next', 0]);
    body.append(b('!'));
    expect(body.bytes().toString()).toBe('next!');
    expect(body.take().toString()).toBe('next!');
    expect(body.length).toBe(0);
    body.reset(Buffer.alloc(0));
    body.append(b('late'));
    expect([body.length, body.bytes().toString()]).toEqual([4, 'late']);
  });

  it('read clamps to the body and returns empty past the end', () => {
    const body = new BodyBuffer(b('0123'));
    body.append(b('4567'));
    expect(body.read(0, 8).toString()).toBe('01234567');
    expect(body.read(2, 3).toString()).toBe('234');
    expect(body.read(3, 2).toString()).toBe('34'); // across the chunk boundary
    expect(body.read(6, 100).toString()).toBe('67');
    expect(body.read(8, 1).length).toBe(0);
    expect(body.read(100, 1).length).toBe(0);
    expect(body.read(0, 0).length).toBe(0);
  });

  it('reads the whole body, however much more is asked for, and a prefix of it', () => {
    const single = new BodyBuffer(b('abcdef'));
    expect(single.read(0, 6).toString()).toBe('abcdef');
    expect(single.read(0, 0xffffffff).toString()).toBe('abcdef');
    expect(single.read(0, 5).toString()).toBe('abcde');
    const joined = new BodyBuffer(b('abc'));
    joined.append(b('def'));
    expect(joined.read(0, 100).toString()).toBe('abcdef');
    joined.splice(0, 1, b('X'));
    expect(joined.read(0, 6).toString()).toBe('Xbcdef');
  });

  it('splice replaces a range in the middle', () => {
    const body = new BodyBuffer(b('hello world'));
    body.splice(6, 5, b('there'));
    expect(body.bytes().toString()).toBe('hello there');
    expect(body.length).toBe(11);
    expect(body.edits).toBe(1);
  });

  it('splice (0, 0) prepends', () => {
    const body = new BodyBuffer(b('body'));
    body.splice(0, 0, b('pre-'));
    expect(body.bytes().toString()).toBe('pre-body');
    expect(body.length).toBe(8);
  });

  it('splice with start past the end appends', () => {
    const body = new BodyBuffer(b('body'));
    body.splice(99, 3, b('-post'));
    expect(body.bytes().toString()).toBe('body-post');
    expect(body.length).toBe(9);
  });

  it('splice (0, >= length) replaces everything', () => {
    const body = new BodyBuffer(b('abc'));
    body.append(b('def'));
    body.splice(0, 1000, b('X'));
    expect(body.bytes().toString()).toBe('X');
    expect(body.length).toBe(1);
  });

  it('splice can shrink, grow and empty the body', () => {
    const body = new BodyBuffer(b('abcdef'));
    body.splice(1, 4, b(''));
    expect(body.bytes().toString()).toBe('af');
    body.splice(1, 0, b('123456'));
    expect(body.bytes().toString()).toBe('a123456f');
    body.splice(0, 8, Buffer.alloc(0));
    expect(body.length).toBe(0);
    expect(body.bytes().length).toBe(0);
    expect(body.edits).toBe(3);
  });

  it('splice counts an edit even when the content stays the same', () => {
    const body = new BodyBuffer(b('same'));
    body.splice(0, 4, b('same'));
    expect(body.edits).toBe(1);
  });

  it('splice on an empty body sets the content', () => {
    const body = new BodyBuffer();
    body.splice(0, 0, b('new'));
    expect(body.bytes().toString()).toBe('new');
    expect(body.length).toBe(3);
  });

  it('take returns everything and leaves the buffer empty', () => {
    const body = new BodyBuffer(b('one'));
    body.append(b('two'));
    const out = body.take();
    expect(out.toString()).toBe('onetwo');
    expect(body.length).toBe(0);
    expect(body.bytes().length).toBe(0);
    expect(body.read(0, 10).length).toBe(0);
    body.append(b('next'));
    expect(body.bytes().toString()).toBe('next');
    expect(out.toString()).toBe('onetwo');
  });
});
