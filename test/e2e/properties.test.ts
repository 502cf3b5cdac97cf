// Properties a filter reads with proxy_get_property, over real sockets, in Envoy's encodings:
// strings raw, integers 8-byte little-endian, timestamps int64 ns, maps as pairs, config
// metadata leaves raw (numbers as doubles) and containers as protobuf Struct.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePairs } from '../../src/abi/pairs.ts';
import { fixtureWasm } from '../helpers/wat.ts';
import { send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let proxy: TestProxy;
let chained: TestProxy;
let app: TestUpstream;

beforeAll(async () => {
  app = await startUpstream((_req, res) => {
    res.writeHead(200, { 'grpc-status': '7', 'content-type': 'text/plain' });
    res.end('upstream body');
  });
  // A setter, the request-phase probe and the response-phase probe in one chain.
  chained = await startProxy(
    `
listeners:
  - name: main
    address: 127.0.0.1:0
    routes:
      - { match: { prefix: /set }, direct_response: { status: 200, body: "" }, filters: [setter, probe] }
      - { match: { prefix: / }, cluster: app, filters: [response-probe] }
clusters:
  - name: app
    endpoints: [${app.address}, ${app.address}]
filters:
  - { name: setter, module: setter.wasm }
  - { name: probe, module: probe.wasm }
  - { name: response-probe, module: response-probe.wasm }
`,
    {
      'setter.wasm': await fixtureWasm('e2e-property-setter'),
      'probe.wasm': await fixtureWasm('e2e-property-probe'),
      'response-probe.wasm': await fixtureWasm('e2e-property-probe-response'),
    },
  );
  proxy = await startProxy(
    `
node:
  id: sidecar-7
  cluster: shop
  metadata: { team: edge, replicas: 3 }
listeners:
  - name: main
    address: 127.0.0.1:0
    metadata: { zone: eu-1 }
    filters: [probe]
    routes:
      - name: props
        match: { prefix: / }
        cluster: backend
        metadata:
          filter_metadata:
            envoy.filters.http.wasm: { auth: cookie, strict: true }
clusters:
  - name: backend
    endpoints: [127.0.0.1:9]
    metadata: { region: west }
filters:
  - name: probe
    module: probe.wasm
    root_id: probe-root
    vm_id: probe-vm
`,
    { 'probe.wasm': await fixtureWasm('e2e-property-probe') },
  );
});

afterAll(async () => {
  await proxy.close();
  await chained.close();
  await app.close();
});

async function property(path: string, headers: [string, string][] = []): Promise<{ status: number; bytes: Buffer }> {
  const res = await send(`${proxy.url()}/shop/items?color=red&size=9`, { headers: [['x-prop', path], ...headers] });
  return { status: res.status, bytes: res.bytes };
}

const text = async (path: string, headers?: [string, string][]) => (await property(path, headers)).bytes.toString('latin1');
const int64 = async (path: string) => (await property(path)).bytes.readBigInt64LE();

describe('request attributes', () => {
  it('path, url_path, query, host, scheme, method, protocol', async () => {
    expect(await text('request|path')).toBe('/shop/items?color=red&size=9');
    expect(await text('request|url_path')).toBe('/shop/items');
    expect(await text('request|query')).toBe('color=red&size=9');
    expect(await text('request|host')).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await text('request|scheme')).toBe('http');
    expect(await text('request|method')).toBe('GET');
    expect(await text('request|protocol')).toBe('HTTP/1.1');
  });

  it('id, time, headers as pairs with repeated values joined, one header', async () => {
    expect(await text('request|id', [['x-request-id', 'abc-123']])).toBe('abc-123');
    const time = Number((await int64('request|time')) / 1_000_000n);
    expect(Math.abs(time - Date.now())).toBeLessThan(5000);
    const map = decodePairs((await property('request|headers', [['x-multi', 'a'], ['x-multi', 'b']])).bytes)!;
    expect(map).toContainEqual(['x-multi', 'a,b']);
    expect(map).toContainEqual([':method', 'GET']);
    expect(await text('request|headers|x-multi', [['x-multi', 'a'], ['x-multi', 'b']])).toBe('a,b');
    // The name in the path is matched ignoring case, as the header map's keys are.
    expect(await text('request|headers|X-Multi', [['X-MULTI', 'a'], ['x-multi', 'b']])).toBe('a,b');
  });

  it('missing values are NOT_FOUND', async () => {
    expect((await property('request|nope')).status).toBe(404);
    expect((await property('request|headers|x-absent')).status).toBe(404);
    expect((await property('no_such_root')).status).toBe(404);
  });
});

describe('connection attributes', () => {
  it('source and destination as "ip:port" strings and int64 ports', async () => {
    const source = await text('source|address');
    expect(source).toMatch(/^127\.0\.0\.1:\d+$/);
    // Each request here opens a new connection, so only the shape of the port can be checked.
    const port = Number(await int64('source|port'));
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
    expect(await text('destination|address')).toBe(new URL(proxy.url()).host);
    expect(Number(await int64('destination|port'))).toBe(Number(new URL(proxy.url()).port));
    expect((await property('connection|id')).bytes.length).toBe(8);
    expect((await property('connection_id')).bytes.length).toBe(8);
  });
});

describe('plugin and xds attributes', () => {
  it('plugin_name, plugin_root_id, plugin_vm_id', async () => {
    expect(await text('plugin_name')).toBe('probe');
    expect(await text('plugin_root_id')).toBe('probe-root');
    expect(await text('plugin_vm_id')).toBe('probe-vm');
  });

  it('route and cluster names, under xds and the legacy top-level names', async () => {
    expect(await text('xds|route_name')).toBe('props');
    expect(await text('route_name')).toBe('props');
    expect(await text('xds|cluster_name')).toBe('backend');
    expect(await text('cluster_name')).toBe('backend');
    expect(await int64('listener_direction')).toBe(0n);
  });

  it('metadata leaves: strings raw, numbers as doubles, booleans one byte', async () => {
    expect(await text('xds|route_metadata|filter_metadata|envoy.filters.http.wasm|auth')).toBe('cookie');
    expect(await text('route_metadata|filter_metadata|envoy.filters.http.wasm|auth')).toBe('cookie');
    expect((await property('route_metadata|filter_metadata|envoy.filters.http.wasm|strict')).bytes).toEqual(Buffer.from([1]));
    expect(await text('xds|cluster_metadata|region')).toBe('west');
    expect(await text('xds|listener_metadata|zone')).toBe('eu-1');
    expect((await property('xds|route_metadata|filter_metadata|missing')).status).toBe(404);
  });

  it('node identity, as xds.node and the legacy node', async () => {
    expect(await text('xds|node|id')).toBe('sidecar-7');
    expect(await text('node|id')).toBe('sidecar-7');
    expect(await text('node|cluster')).toBe('shop');
    expect(await text('node|metadata|team')).toBe('edge');
    expect((await property('node|metadata|replicas')).bytes.readDoubleLE()).toBe(3);
    // The whole message is protobuf: field 1 (id) comes first.
    const whole = (await property('xds|node')).bytes;
    expect([...whole.subarray(0, 2)]).toEqual([0x0a, 'sidecar-7'.length]);
    expect(whole.subarray(2, 11).toString()).toBe('sidecar-7');
  });
});

describe('values set by filters', () => {
  it('a value set with proxy_set_property is readable by a later filter of the same request', async () => {
    const res = await send(`${chained.url()}/set`, { headers: [['x-set', 'from the first filter'], ['x-prop', 'x_custom']] });
    expect(res.status).toBe(200);
    expect(res.body).toBe('from the first filter');
    // ...and only for that request.
    const next = await send(`${chained.url()}/set`, { headers: [['x-prop', 'x_custom']] });
    expect(next.status).toBe(404);
  });
});

describe('response attributes, read in on_response_headers', () => {
  const responseProperty = async (path: string): Promise<Buffer | null> => {
    const value = (await send(`${chained.url()}/r`, { headers: [['x-prop-response', path]] })).header('x-prop-value');
    return value === undefined || value === 'none' ? null : Buffer.from(value, 'hex');
  };

  it('code, code_details, grpc_status, flags and headers', async () => {
    expect((await responseProperty('response|code'))!.readBigInt64LE()).toBe(200n);
    expect((await responseProperty('response|code_details'))!.toString()).toBe('via_upstream');
    expect((await responseProperty('response|grpc_status'))!.readBigInt64LE()).toBe(7n);
    expect((await responseProperty('response|flags'))!.readBigInt64LE()).toBe(0n);
    expect((await responseProperty('response|headers|content-type'))!.toString()).toBe('text/plain');
  });

  it('backend latency as a duration and the upstream endpoint', async () => {
    const latency = (await responseProperty('response|backend_latency'))!.readBigInt64LE();
    expect(latency).toBeGreaterThan(0n);
    expect(latency).toBeLessThan(5_000_000_000n);
    expect((await responseProperty('upstream|address'))!.toString()).toBe(app.address);
    expect((await responseProperty('upstream|port'))!.readBigInt64LE()).toBe(BigInt(app.port));
    expect((await responseProperty('upstream|num_endpoints'))!.readBigUInt64LE()).toBe(2n);
    expect((await responseProperty('upstream|request_attempt_count'))!.readBigUInt64LE()).toBe(1n);
  });

  it('TLS attributes are absent on plain-text connections', async () => {
    expect((await responseProperty('connection|requested_server_name'))!.length).toBe(0);
    expect(await responseProperty('connection|tls_version')).toBeNull();
  });
});
