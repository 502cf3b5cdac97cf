// Per-filter WASI environment: a filter's `env:` from the config is what environ_get returns,
// the proxy's own process.env never leaks in, and filters that differ in their environment never
// share a VM (the environment belongs to the VM).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';

const CANARY = 'SLUICE_TEST_PROCESS_ENV_CANARY';
let proxy: TestProxy;

beforeAll(async () => {
  process.env[CANARY] = 'must-not-leak';
  proxy = await startProxy(
    `
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [plain, a, b, a2]
    routes: [{ match: {}, echo: true }]
filters:
  - name: plain
    module: environ.wasm
  - name: a
    module: environ.wasm
    vm_id: shared
    env: { REGION: eu-west-1, DEBUG: true, EMPTY: "", "UTF8": "grüße" }
  - name: b
    module: environ.wasm
    vm_id: shared
    env: { REGION: us-east-2 }
  - name: a2
    module: environ.wasm
    vm_id: shared
    env: { REGION: eu-west-1, DEBUG: true, EMPTY: "", "UTF8": "grüße" }
`,
    { 'environ.wasm': await fixtureWasm('wasi-environ') },
  );
});

afterAll(async () => {
  delete process.env[CANARY];
  await proxy?.close();
});

/** What a filter's root context logged between "environ begin" and "environ end". */
function environOf(plugin: string): string[] {
  const lines = proxy.logs.filter((r) => r.wasm !== undefined && r['plugin'] === plugin).map((r) => r.msg ?? '');
  const begin = lines.indexOf('environ begin');
  const end = lines.indexOf('environ end');
  expect(begin, `${plugin} logged its environment`).toBeGreaterThanOrEqual(0);
  return lines.slice(begin + 1, end);
}

describe('WASI environment per filter', () => {
  it('is exactly the configured KEY=VALUE entries, in file order', () => {
    expect(environOf('a')).toEqual(['REGION=eu-west-1', 'DEBUG=true', 'EMPTY=', 'UTF8=grüße']);
    expect(environOf('b')).toEqual(['REGION=us-east-2']);
  });

  it('is empty without `env`, whatever the proxy process has', () => {
    expect(process.env[CANARY]).toBe('must-not-leak');
    expect(environOf('plain')).toEqual([]);
    expect(proxy.wasmLogs().filter((m) => m.includes(CANARY) || m.includes('must-not-leak') || m.startsWith('PATH='))).toEqual([]);
  });

  it('splits filters on one vm_id into separate VMs when their environments differ', () => {
    const vmOf = (name: string) => proxy.sluice.plugins.plugins().find((p) => p.config.name === name)!.vm;
    expect(vmOf('a')).not.toBe(vmOf('b'));
    expect(vmOf('a')).toBe(vmOf('a2'));
    expect(vmOf('a').options.environ).toEqual(['REGION=eu-west-1', 'DEBUG=true', 'EMPTY=', 'UTF8=grüße']);
  });
});
