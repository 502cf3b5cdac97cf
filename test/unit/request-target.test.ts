import { describe, expect, it } from 'vitest';
import { absoluteTarget, originPath, removeDotSegments } from '../../src/proxy/request-target.ts';

describe('removeDotSegments', () => {
  it('resolves . and .. as RFC 3986 §5.2.4 does', () => {
    const cases: Array<[string, string]> = [
      ['/a/b/c/./../../g', '/a/g'],
      ['/x/../private/data', '/private/data'],
      ['/a/./b', '/a/b'],
      ['/a/b/..', '/a/'],
      ['/a/b/.', '/a/b/'],
      ['/..', '/'],
      ['/../../a', '/a'],
      ['/a//../b', '/a/b'],
      ['/', '/'],
    ];
    for (const [input, output] of cases) expect(removeDotSegments(input), input).toBe(output);
  });

  it('reads %2e (any case) as a dot, and only whole segments as dot-segments', () => {
    expect(removeDotSegments('/x/%2e%2e/private')).toBe('/private');
    expect(removeDotSegments('/x/.%2E/private')).toBe('/private');
    expect(removeDotSegments('/x/%2E./private')).toBe('/private');
    expect(removeDotSegments('/x/%2e/private')).toBe('/x/private');
    expect(removeDotSegments('/x/..a/.b/a../%2e%2ex')).toBe('/x/..a/.b/a../%2e%2ex');
  });

  it('keeps the query as it is, and empty segments', () => {
    expect(removeDotSegments('/a/../b?next=/../c')).toBe('/b?next=/../c');
    expect(removeDotSegments('//private/./x')).toBe('//private/x');
  });
});

describe('originPath', () => {
  it('returns a path without dot-segments unchanged (the same string)', () => {
    const path = '/api/v1.2/file.js?x=1';
    expect(originPath(path)).toBe(path);
  });

  it('normalizes a path with dot-segments, and refuses what is not a path', () => {
    expect(originPath('/a/%2e%2e/b')).toBe('/b');
    expect(originPath('*')).toBeNull();
    expect(originPath('example.com:443')).toBeNull();
    expect(originPath('')).toBeNull();
  });
});

describe('absoluteTarget', () => {
  it('splits an http(s) URL into authority and path', () => {
    expect(absoluteTarget('http://example.com/private/data')).toEqual(['example.com', '/private/data']);
    expect(absoluteTarget('HTTPS://example.com:8443/a/../b?q=1')).toEqual(['example.com:8443', '/b?q=1']);
    expect(absoluteTarget('http://[::1]:80')).toEqual(['[::1]:80', '/']);
    expect(absoluteTarget('http://example.com?q=1')).toEqual(['example.com', '/?q=1']);
  });

  it('refuses other schemes, a missing host and userinfo', () => {
    expect(absoluteTarget('ftp://example.com/')).toBeNull();
    expect(absoluteTarget('http:///path')).toBeNull();
    expect(absoluteTarget('http://user:pw@example.com/')).toBeNull();
    expect(absoluteTarget('/path')).toBeNull();
  });
});
