// Shared data and queues over real sockets: two different modules with the same vm_id share a
// counter across requests (one counts, the other reads it into a response header), another
// vm_id sees nothing, the admin port shows the store's size, and a queue carries items from
// stream contexts to the root context that registered it last.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';
import { send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let app: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  app = await startUpstream();
  proxy = await startProxy(
    `
admin: { address: 127.0.0.1:0 }
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [counter, reader]
    routes:
      - match: { prefix: /isolated }
        cluster: app
        filters: [counter, reader-elsewhere]
      - match: { prefix: /queue }
        cluster: app
        filters: [queue-sender]
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [${app.address}]
filters:
  - name: counter
    module: counter.wasm
    vm_id: shared
  - name: reader
    module: reader.wasm
    vm_id: shared
  - name: reader-elsewhere
    module: reader.wasm
    vm_id: elsewhere
  # Same module and vm_id: one VM, two root contexts. Both register "events" in on_configure;
  # the one started last (queue-receiver, on no route) is the consumer.
  - name: queue-sender
    module: queues.wasm
    vm_id: q
  - name: queue-receiver
    module: queues.wasm
    vm_id: q
`,
    {
      'counter.wasm': await fixtureWasm('abi-shared-data'),
      'reader.wasm': await fixtureWasm('e2e-shared-reader'),
      'queues.wasm': await fixtureWasm('abi-shared-queues'),
    },
  );
});

afterAll(async () => {
  await proxy.close();
  await app.close();
});

describe('shared data', () => {
  it('a value one module writes, another module with the same vm_id reads, request after request', async () => {
    const seen: Array<string | undefined> = [];
    for (let i = 0; i < 3; i++) {
      const res = await send(`${proxy.url()}/count`);
      expect(res.status).toBe(200);
      seen.push(res.header('x-shared-value'));
    }
    expect(seen).toEqual(['1', '2', '3']);
    expect(proxy.wasmLogs().filter((m) => m.startsWith('shared value:'))).toEqual(['shared value: 1', 'shared value: 2', 'shared value: 3']);
  });

  it('concurrent requests lose no increment', async () => {
    const before = Number((await send(`${proxy.url()}/count`)).header('x-shared-value'));
    await Promise.all(Array.from({ length: 20 }, () => send(`${proxy.url()}/count`)));
    expect((await send(`${proxy.url()}/count`)).header('x-shared-value')).toBe(String(before + 21));
  });

  it('a filter with another vm_id does not see it', async () => {
    const res = await send(`${proxy.url()}/isolated`);
    expect(res.status).toBe(200);
    expect(res.header('x-shared-value')).toBe('none');
  });

  it('the admin port shows keys and bytes per vm_id', async () => {
    const metrics = (await send(`${proxy.adminUrl()}/metrics`)).body;
    expect(metrics).toContain('# TYPE sluice_shared_data_keys gauge');
    expect(metrics).toContain('sluice_shared_data_keys{vm_id="shared"} 1');
    expect(metrics).toContain('sluice_shared_data_bytes{vm_id="shared"} 23'); // "shared_data_key" + 8-byte u64
    expect(metrics).not.toContain('sluice_shared_data_keys{vm_id="elsewhere"}');
    expect(metrics).toContain('sluice_shared_data_dropped_writes{vm_id="shared"} 0');
  });
});

describe('shared queues', () => {
  it('items enqueued by stream contexts reach the root context that registered last, in order', async () => {
    for (const msg of ['alpha', 'beta']) {
      const res = await send(`${proxy.url()}/queue`, { headers: [['x-msg', msg]] });
      expect(res.status).toBe(200);
    }
    await proxy.waitFor((r) => r.msg === 'queue item: beta');
    const items = proxy.logs.filter((r) => typeof r.msg === 'string' && r.msg.startsWith('queue item: '));
    expect(items.map((r) => [r.plugin, r.msg])).toEqual([
      ['queue-receiver', 'queue item: alpha'],
      ['queue-receiver', 'queue item: beta'],
    ]);
    const metrics = (await send(`${proxy.adminUrl()}/metrics`)).body;
    expect(metrics).toContain('sluice_shared_queue_items{vm_id="q",queue="events"} 0');
  });
});
