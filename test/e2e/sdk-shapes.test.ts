// The sdk-*.wat fixtures (shaped like TinyGo, Go wasip1, Rust wasip1 / unknown-unknown and
// Emscripten builds) start in sluice through their own entry point and allocator, and their
// trivial callbacks run on a real request: each adds `x-sdk: <name>` to the request.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';
import { send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

const SDKS = [
  ['sdk-tinygo', 'tinygo'],
  ['sdk-go-wasip1', 'go'],
  ['sdk-rust-wasip1', 'rust'],
  ['sdk-rust-unknown', 'rust-unknown'],
  ['sdk-emscripten', 'emscripten'],
] as const;

let app: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  app = await startUpstream();
  const files: Record<string, Uint8Array> = {};
  for (const [fixture] of SDKS) files[`${fixture}.wasm`] = await fixtureWasm(fixture);
  proxy = await startProxy(
    `
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [${SDKS.map(([, name]) => name).join(', ')}]
    routes: [{ match: {}, cluster: app }]
clusters:
  - name: app
    endpoints: [${app.address}]
filters:
${SDKS.map(([fixture, name]) => `  - name: ${name}\n    module: ${fixture}.wasm`).join('\n')}
`,
    files,
  );
});

afterAll(async () => {
  await proxy?.close();
  await app?.close();
});

describe('SDK-shaped fixtures', () => {
  it('start (entry point ran before on_vm_start) and configure', () => {
    expect(proxy.wasmLogs()).toEqual(SDKS.map(([, name]) => `${name} configured`));
  });

  it('run their request callbacks in chain order', async () => {
    const res = await send(`${proxy.url()}/`);
    expect(res.status).toBe(200);
    const sdkHeaders = app.requests[0]!.rawHeaders.filter(([n]) => n.toLowerCase() === 'x-sdk').map(([, v]) => v);
    expect(sdkHeaders).toEqual(SDKS.map(([, name]) => name));
  });
});
