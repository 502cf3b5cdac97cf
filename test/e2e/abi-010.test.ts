// A filter built for ABI 0.1.0 runs unchanged: `_start`, `malloc`, two-argument header
// callbacks, proxy_get_configuration during on_configure, the 0.1.0 missing-key rule (OK with an
// empty value) and proxy_continue_request after a Pause.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';
import { send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let app: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  app = await startUpstream();
  proxy = await startProxy(
    `
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [legacy]
    routes: [{ match: { prefix: / }, cluster: app }]
clusters:
  - name: app
    endpoints: [${app.address}]
filters:
  - name: legacy
    module: legacy.wasm
    configuration: "configured for 0.1.0"
`,
    { 'legacy.wasm': await fixtureWasm('e2e-abi-010') },
  );
});

afterAll(async () => {
  await proxy.close();
  await app.close();
});

describe('ABI 0.1.0', () => {
  it('reads its configuration through proxy_get_configuration', () => {
    expect(proxy.wasmLogs()).toContain('configured for 0.1.0');
  });

  it('pauses, continues with proxy_continue_request, and sees a missing header as OK and empty', async () => {
    const res = await send(`${proxy.url()}/v1`);
    expect(res.status).toBe(200);
    expect(app.requests.at(-1)!.url).toBe('/v1');
    expect(res.header('x-abi')).toBe('0.1.0');
    expect(res.header('x-missing-status')).toBe('00'); // status OK (0), size 0
  });
});
