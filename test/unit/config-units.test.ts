import { describe, expect, it } from 'vitest';
import { formatHostPort, parseHostPort } from '../../src/config/address.ts';
import { MAX_DURATION_MS, parseByteSize, parseDuration } from '../../src/config/units.ts';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['1s', 1000],
    ['1.5s', 1500],
    ['1.1s', 1100],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0', 0],
    ['1500', 1500],
    [' 3 s ', 3000],
    ['10MS', 10],
    [0, 0],
    [750, 750],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'soon', '1 sec', '-1s', '1.5.0s', 's', '1d', '0x10'])('refuses %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/expected a duration like "250ms"/);
  });

  it('refuses negative and non-finite numbers', () => {
    expect(() => parseDuration(-5)).toThrow(/expected a duration/);
    expect(() => parseDuration(Number.POSITIVE_INFINITY)).toThrow(/expected a duration/);
  });

  it('refuses fractions of a millisecond instead of rounding', () => {
    expect(() => parseDuration('1.5ms')).toThrow(/not a fraction of a millisecond/);
    expect(() => parseDuration(0.5)).toThrow(/not a fraction of a millisecond/);
  });

  it('refuses durations longer than a Node timer can wait', () => {
    expect(parseDuration(MAX_DURATION_MS)).toBe(MAX_DURATION_MS);
    expect(() => parseDuration('25d')).toThrow();
    expect(() => parseDuration('1000h')).toThrow(/too long/);
  });
});

describe('parseByteSize', () => {
  it.each([
    [65536, 65536],
    ['65536', 65536],
    ['0', 0],
    ['100B', 100],
    ['64KiB', 64 * 1024],
    ['1MiB', 1024 * 1024],
    ['1GiB', 1024 ** 3],
    ['1MB', 1_000_000],
    ['512kb', 512_000],
    ['1.5MiB', 1.5 * 1024 * 1024],
    ['1.1MB', 1_100_000],
    ['2 mib', 2 * 1024 * 1024],
  ])('%j is %d bytes', (input, bytes) => {
    expect(parseByteSize(input)).toBe(bytes);
  });

  it.each(['', 'big', '1 meg', '-1KiB', '1K', '1TB', '1.5'])('refuses %j', (input) => {
    expect(() => parseByteSize(input)).toThrow(/expected a size like/);
  });

  it('refuses fractions of a byte', () => {
    expect(() => parseByteSize('1.5')).toThrow(/fraction of a byte/);
    expect(() => parseByteSize('0.1KiB')).toThrow(/fraction of a byte/);
  });

  it('refuses sizes beyond a safe integer', () => {
    expect(() => parseByteSize(2 ** 60)).toThrow(/too large/);
  });
});

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
    ['api.internal.example:443', { host: 'api.internal.example', port: 443 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['[::]:0', { host: '::', port: 0 }],
  ])('%j', (input, expected) => {
    expect(parseHostPort(input)).toEqual(expected);
  });

  it.each([
    ['localhost', /expected "host:port"/],
    [':8080', /invalid host ""/],
    ['127.0.0.1:', /expected "host:port"/],
    ['127.0.0.1:http', /expected "host:port"/],
    ['127.0.0.1:65536', /port must be between 0 and 65535 \(got 65536\)/],
    ['127.0.0.1:-1', /expected "host:port"/],
    ['300.1.1.1:80', /invalid host "300.1.1.1"/],
    ['bad_host:80', /invalid host "bad_host"/],
    ['::1:8080', /put IPv6 addresses in brackets/],
    ['[::g]:80', /invalid IPv6 address "::g"/],
  ])('refuses %j', (input, message) => {
    expect(() => parseHostPort(input)).toThrow(message);
  });

  it('formats IPv6 hosts back with brackets', () => {
    expect(formatHostPort({ host: '::1', port: 80 })).toBe('[::1]:80');
    expect(formatHostPort({ host: 'localhost', port: 80 })).toBe('localhost:80');
  });
});
