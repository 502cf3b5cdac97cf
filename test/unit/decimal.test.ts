import { describe, expect, it } from 'vitest';
import { decimalNumber } from '../../src/proxy/decimal.ts';

describe('decimalNumber', () => {
  it('reads plain digits as Number() does', () => {
    for (const s of ['0', '7', '200', '007', '1024', '999999999999999']) {
      expect(decimalNumber(s)).toBe(Number(s));
    }
  });

  it('gives exactly what Number() gives for everything else', () => {
    const others = ['', ' ', ' 12', '12 ', '\t5', '+1', '-1', '1.5', '1e3', '0x10', 'abc', '12a', '1234567890123456', '9007199254740993', '\u0663', 'Infinity'];
    for (const s of others) expect(Object.is(decimalNumber(s), Number(s)), JSON.stringify(s)).toBe(true);
  });
});
