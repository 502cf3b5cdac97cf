import { describe, expect, it } from 'vitest';
import { requestId } from '../../src/proxy/request-id.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestId', () => {
  it('hands out distinct version-4 UUIDs, across several batches', () => {
    const ids = Array.from({ length: 1000 }, () => requestId());
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses every hex digit in every random position (the digits are not stuck)', () => {
    const seen = Array.from({ length: 36 }, () => new Set<string>());
    for (let n = 0; n < 2000; n++) {
      const id = requestId();
      for (let i = 0; i < 36; i++) seen[i]!.add(id[i]!);
    }
    for (let i = 0; i < 36; i++) {
      if ([8, 13, 18, 23].includes(i)) expect([...seen[i]!]).toEqual(['-']);
      else if (i === 14) expect([...seen[i]!]).toEqual(['4']);
      else if (i === 19) expect([...seen[i]!].sort()).toEqual(['8', '9', 'a', 'b']);
      else expect(seen[i]!.size, `position ${i}`).toBe(16);
    }
  });
});
