// bench:instructions reads the garbage collector's share of a callgrind dump itself; these dumps
// follow the format of real ones (callgrind 3.19, Node 24), cut down to the lines that matter.

import { describe, expect, it } from 'vitest';
import { gcShare } from '../../bench/callgrind-gc.ts';

const COLLECT = 'v8::internal::Heap::CollectGarbage(v8::internal::AllocationSpace, v8::internal::GarbageCollectionReason, v8::GCCallbackFlags)';

describe("a dump's garbage collections", () => {
  it('add up the inclusive cost of every call of Heap::CollectGarbage, and count scavenges and full GCs', () => {
    const dump = [
      '# callgrind format',
      'positions: line',
      'events: Ir',
      'summary: 1000000',
      '',
      'fn=(10) v8::internal::Heap::AllocateRaw',
      '0 500',
      `cfn=(12) ${COLLECT}`,
      'calls=2 0 ',
      '0 30000',
      'fn=(14) v8::internal::ScavengeJob::Task::RunInternal()',
      '0 20',
      'cfn=(12)',
      'calls=1 0 ',
      '0 12000',
      'cfn=(16) v8::internal::Heap::CollectGarbageShared()',
      'calls=1 0 ',
      '0 99999',
      `fn=(12)`,
      '0 40',
      'cfn=(18) v8::internal::ScavengerCollector::CollectGarbage()',
      'calls=2 0 ',
      '0 25000',
      'cfn=(20) v8::internal::MarkCompactCollector::CollectGarbage()',
      'calls=1 0 ',
      '0 15000',
      'fn=(22) other',
      'cfn=(18)',
      'calls=1 0 ',
      '0 1',
      '',
      'totals: 1000000',
    ].join('\n');
    expect(gcShare(dump)).toEqual({ events: { Ir: 42000 }, scavenges: 3, fullGcs: 1 });
  });

  it('read every event after two position columns (--dump-instr=yes, --cache-sim=yes)', () => {
    const dump = [
      'positions: instr line',
      'events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw',
      `fn=(3) v8::internal::Heap::AllocateRaw`,
      `cfn=(4) ${COLLECT}`,
      'calls=1 0x1234 0',
      '0x5678 0 100 20 10 1 2 3 0 4 5',
      'cfn=(4)',
      'calls=1 +8 0',
      '+2 0 50 10 5 0 1 1 0 2 2',
      'fn=(5) unrelated',
      '+4 0 7 7 7 7 7 7 7 7 7',
    ].join('\n');
    expect(gcShare(dump)).toEqual({
      events: { Ir: 150, Dr: 30, Dw: 15, I1mr: 1, D1mr: 3, D1mw: 4, ILmr: 0, DLmr: 6, DLmw: 7 },
      scavenges: 0,
      fullGcs: 0,
    });
  });

  it('finds nothing in a dump without collections', () => {
    expect(gcShare('positions: line\nevents: Ir\nfn=(1) main\n0 10\n')).toEqual({ events: { Ir: 0 }, scavenges: 0, fullGcs: 0 });
  });
});
