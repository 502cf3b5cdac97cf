// Number(s) for the decimal strings HTTP carries (status codes, Content-Length), four of them
// per proxied request. Number() on a string it has not converted before goes through V8's
// runtime: ~370 instructions each (`npm run bench:instructions -- --profile data`), where a
// loop over a few digits costs a tenth of that.

/** Exactly Number(s): plain digits are read here, anything else is left to Number(). */
export function decimalNumber(s: string): number {
  const n = s.length;
  // 15 digits stay below 2^53: the loop's sum is exact.
  if (n === 0 || n > 15) return Number(s);
  let value = 0;
  for (let i = 0; i < n; i++) {
    const digit = s.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number(s);
    value = value * 10 + digit;
  }
  return value;
}
