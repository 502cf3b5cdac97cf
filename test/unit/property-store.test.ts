// The store behind proxy_set_property: keys and values count against its bound, a replaced value
// counts only its growth, and a write past the bound stores nothing.

import { describe, expect, it } from 'vitest';
import { PropertyStore } from '../../src/abi/property-store.ts';

describe('PropertyStore', () => {
  it('counts keys and values, and refuses a write past its bound without storing it', () => {
    const store = new PropertyStore(100);
    expect(store.set('a', Buffer.alloc(40))).toBe(true);
    expect(store.set('b', Buffer.alloc(40))).toBe(true);
    expect(store.bytes).toBe(82);
    expect(store.set('c', Buffer.alloc(40))).toBe(false);
    expect(store.get('c')).toBeUndefined();
    expect(store.bytes).toBe(82);
  });

  it('counts a replaced value by its growth: shrinking always fits, and frees room', () => {
    const store = new PropertyStore(100);
    store.set('a', Buffer.alloc(90));
    expect(store.set('a', Buffer.alloc(99))).toBe(true);
    expect(store.set('a', Buffer.alloc(100))).toBe(false);
    expect(store.get('a')!.length).toBe(99);
    expect(store.set('a', Buffer.alloc(10))).toBe(true);
    expect(store.bytes).toBe(11);
    expect(store.set('b', Buffer.alloc(80))).toBe(true);
  });
});
