import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, loadConfig, parseConfig, type SluiceConfig } from '../../src/config/index.ts';

const FIXTURES = resolve('test/fixtures/configs');
const PLACEHOLDER_MODULE = join(FIXTURES, 'modules/placeholder.module');

// Inline configs live "in" a temp dir holding a module file they can point at.
const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
const file = join(dir, 'sluice.yaml');
writeFileSync(join(dir, 'filter.wasm'), '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** The issues for an invalid config, as `LINE:COL path: message`. */
function issuesOf(text: string): string[] {
  try {
    parseConfig(text, file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((issue) => `${issue.line}:${issue.col} ${issue.path}: ${issue.message}`);
  }
  throw new Error('expected the config to be invalid');
}

// A valid skeleton the error cases below change one thing in.
const LISTENER = ['listeners:', '  - name: ingress', '    address: 127.0.0.1:0', '    routes:'];
const CLUSTERS = ['clusters:', '  - name: app', '    endpoints: [127.0.0.1:3000]'];
const FILTERS = ['filters:', '  - name: headers', '    module: filter.wasm'];

describe('valid configs', () => {
  it('resolves the full example into typed objects', () => {
    const config = loadConfig('test/fixtures/configs/full.yaml');
    const expected: SluiceConfig = {
      file: join(FIXTURES, 'full.yaml'),
      logLevel: 'debug',
      workers: 2,
      watchdogTimeoutMs: 5000,
      filterCallbackTimeoutMs: 500,
      drainTimeoutMs: 45_000,
      maxConnections: 5000,
      admin: { address: { host: '127.0.0.1', port: 9901 } },
      node: { id: 'sidecar-1', cluster: 'sluice', metadata: { team: 'edge' } },
      stats: { tags: [{ tagName: 'value', regex: /(_value=([a-zA-Z]+))/ }] },
      listeners: [
        {
          name: 'ingress',
          address: { host: '127.0.0.1', port: 0 },
          filters: ['headers', 'auth'],
          streamIdleTimeoutMs: 30_000,
          idleTimeoutMs: 90_000,
          requestHeadersTimeoutMs: 10_000,
          requestTimeoutMs: 600_000,
          routes: [
            {
              name: 'api',
              match: {
                prefix: '/api',
                methods: ['GET', 'POST'],
                host: '*.example.com',
                headers: [
                  { name: 'x-tenant', exact: 'acme' },
                  { name: 'x-debug', present: true },
                  { name: 'x-trace', prefix: '00-' },
                  { name: 'x-internal', present: false },
                ],
              },
              cluster: 'app',
              filters: ['auth'],
              maxRequestBodyBytes: 512_000,
              maxResponseBodyBytes: 1_000_000,
              metadata: { filter_metadata: { 'envoy.filters.http.wasm': { auth: 'cookie' } } },
            },
            {
              name: 'ingress/1',
              match: { path: '/echo' },
              echo: true,
              filters: [],
              maxRequestBodyBytes: 64 * 1024,
              maxResponseBodyBytes: 1_000_000,
              metadata: {},
            },
            {
              name: 'ingress/2',
              match: {},
              directResponse: { status: 404, body: 'not found\n', headers: [['content-type', 'text/plain']] },
              filters: ['headers', 'auth'],
              maxRequestBodyBytes: 64 * 1024,
              maxResponseBodyBytes: 1_000_000,
              metadata: {},
            },
          ],
          metadata: {},
        },
        {
          name: 'internal',
          address: { host: '::1', port: 0 },
          filters: [],
          streamIdleTimeoutMs: 300_000,
          idleTimeoutMs: 300_000,
          requestHeadersTimeoutMs: 60_000,
          requestTimeoutMs: 0,
          routes: [
            {
              name: 'internal/0',
              match: { prefix: '/' },
              cluster: 'backup',
              filters: [],
              maxRequestBodyBytes: 1024 * 1024,
              maxResponseBodyBytes: 2 * 1024 * 1024,
              metadata: {},
            },
          ],
          metadata: { zone: 'b' },
        },
      ],
      clusters: [
        {
          name: 'app',
          endpoints: [{ host: '127.0.0.1', port: 3000 }, { host: 'localhost', port: 3001 }],
          connectTimeoutMs: 250,
          timeoutMs: 1500,
          protocol: 'http1',
          maxConnections: 64,
          maxPendingRequests: 0,
          metadata: {},
        },
        {
          name: 'backup',
          endpoints: [{ host: '::1', port: 3002 }],
          connectTimeoutMs: 1000,
          timeoutMs: 0,
          protocol: 'http2',
          maxConnections: 1024,
          maxPendingRequests: 1024,
          metadata: { region: 'eu' },
        },
      ],
      filters: [
        {
          name: 'headers',
          module: PLACEHOLDER_MODULE,
          rootId: '',
          vmId: '',
          configuration: '{"add":{"x-powered-by":"sluice"},"remove":["server"]}',
          vmConfiguration: 'raw text',
          failurePolicy: 'fail_open',
          logLevel: 'debug',
          env: [],
          httpCallHosts: [],
          source: { file: 'test/fixtures/configs/full.yaml', line: 54, col: 5 },
        },
        {
          name: 'auth',
          module: PLACEHOLDER_MODULE,
          rootId: 'auth_root',
          vmId: 'shared',
          configuration: '',
          vmConfiguration: '',
          failurePolicy: 'fail_closed',
          logLevel: 'warn',
          env: [['MODE', 'strict'], ['RETRIES', '3']],
          httpCallHosts: ['127.0.0.1:2046', 'auth.local:80'],
          source: { file: 'test/fixtures/configs/full.yaml', line: 59, col: 5 },
        },
      ],
    };
    expect(config).toStrictEqual(expected);
  });

  it('fills in every default for a minimal config', () => {
    expect(loadConfig(join(FIXTURES, 'minimal.yaml'))).toStrictEqual({
      file: join(FIXTURES, 'minimal.yaml'),
      logLevel: 'info',
      workers: 1,
      watchdogTimeoutMs: 10_000,
      filterCallbackTimeoutMs: 1000,
      drainTimeoutMs: 30_000,
      maxConnections: 'auto',
      node: { id: 'sluice', cluster: 'sluice', metadata: {} },
      stats: { tags: [] },
      listeners: [
        {
          name: 'ingress',
          address: { host: '127.0.0.1', port: 8080 },
          filters: [],
          streamIdleTimeoutMs: 300_000,
          idleTimeoutMs: 300_000,
          requestHeadersTimeoutMs: 60_000,
          requestTimeoutMs: 0,
          routes: [
            {
              name: 'ingress/0',
              match: { prefix: '/' },
              cluster: 'app',
              filters: [],
              maxRequestBodyBytes: 1024 * 1024,
              maxResponseBodyBytes: 1024 * 1024,
              metadata: {},
            },
          ],
          metadata: {},
        },
      ],
      clusters: [{ name: 'app', endpoints: [{ host: '127.0.0.1', port: 3000 }], connectTimeoutMs: 1000, timeoutMs: 15_000, protocol: 'http1', maxConnections: 1024, maxPendingRequests: 1024, metadata: {} }],
      filters: [],
    });
  });

  it('resolves module paths against the config file directory and passes configuration through', () => {
    const config = parseConfig(
      yaml(
        'log_level: error',
        ...LISTENER, '      - match: {}', '        echo: true',
        'filters:',
        '  - name: a', '    module: filter.wasm', '    configuration: "{ not: json }"', '    vm_configuration: [1, two]',
        '  - name: b', `    module: ${PLACEHOLDER_MODULE}`, '    configuration: ""',
      ),
      file,
    );
    expect(config.file).toBe(file);
    expect(config.filters.map((f) => [f.module, f.configuration, f.vmConfiguration, f.logLevel])).toEqual([
      [join(dir, 'filter.wasm'), '{ not: json }', '[1,"two"]', 'error'],
      [PLACEHOLDER_MODULE, '', '', 'error'],
    ]);
  });

  it('follows YAML anchors and aliases', () => {
    const config = parseConfig(
      yaml(...LISTENER, '      - match: &all {}', '        cluster: app', '      - match: *all', '        echo: true', ...CLUSTERS),
      file,
    );
    expect(config.listeners[0]?.routes.map((route) => route.match)).toEqual([{}, {}]);
  });

  it('lets listeners share port 0 and treats echo: false as "no echo"', () => {
    const config = parseConfig(
      yaml(
        ...LISTENER, '      - match: {}', '        echo: false', '        cluster: app',
        '  - name: second', '    address: 127.0.0.1:0', '    routes: [{ match: {}, echo: true }]',
        ...CLUSTERS,
      ),
      file,
    );
    expect(config.listeners[0]?.routes[0]).not.toHaveProperty('echo');
    expect(config.listeners).toHaveLength(2);
  });
});

describe('invalid configs', () => {
  it('reports unknown keys at the key, at every depth, listing the allowed keys', () => {
    expect(issuesOf(yaml(
      'colour: blue',
      ...LISTENER,
      '      - match: { prefix: /, regex: x }',
      '        cluster: app',
      '        retries: 3',
      ...CLUSTERS,
      '    weight: 1',
    ))).toEqual([
      '1:1 colour: unknown key "colour" (allowed: admin, log_level, workers, watchdog_timeout, filter_callback_timeout, drain_timeout, max_connections, node, stats, listeners, clusters, filters)',
      '6:29 listeners[0].routes[0].match.regex: unknown key "regex" (allowed: prefix, path, headers, methods, host)',
      '8:9 listeners[0].routes[0].retries: unknown key "retries" (allowed: name, match, cluster, direct_response, echo, filters, max_request_body_bytes, max_response_body_bytes, metadata)',
      '12:5 clusters[0].weight: unknown key "weight" (allowed: name, endpoints, connect_timeout, timeout, protocol, max_connections, max_pending_requests, metadata)',
    ]);
  });

  it('reports wrong types at the value', () => {
    expect(issuesOf(yaml(
      'listeners:',
      '  - name: [ingress]',
      '    address: 8080',
      '    filters: headers',
      '    routes:',
      '      - match: { methods: GET }',
      '        echo: yes',
      'clusters: {}',
    ))).toEqual([
      '2:11 listeners[0].name: expected a string, got a list',
      '3:14 listeners[0].address: expected a string, got a number (8080)',
      '4:14 listeners[0].filters: expected a list, got a string ("headers")',
      '6:27 listeners[0].routes[0].match.methods: expected a list, got a string ("GET")',
      '7:15 listeners[0].routes[0].echo: expected true or false, got a string ("yes")',
      '8:11 clusters: expected a list, got a map',
    ]);
  });

  it('points at the key of an empty value', () => {
    expect(issuesOf(yaml(...LISTENER, '      - match:', '        echo: true'))).toEqual([
      '5:9 listeners[0].routes[0].match: expected a map, got an empty value',
    ]);
  });

  it('reports missing required keys at the map that lacks them', () => {
    expect(issuesOf(yaml(
      'listeners:',
      '  - address: 127.0.0.1:0',
      '    routes:',
      '      - cluster: app',
      'clusters:',
      '  - name: app',
      'filters:',
      '  - { name: headers }',
    ))).toEqual([
      '2:5 listeners[0]: missing required key "name"',
      '4:9 listeners[0].routes[0]: missing required key "match"',
      '6:5 clusters[0]: missing required key "endpoints"',
      '8:5 filters[0]: missing required key "module"',
    ]);
    expect(issuesOf(yaml('log_level: info'))).toEqual(['1:1 : missing required key "listeners"']);
  });

  it('reports duplicate names at the second one', () => {
    expect(issuesOf(yaml(
      ...LISTENER, '      - { name: r, match: {}, echo: true }', '      - { name: r, match: {}, echo: true }',
      '  - name: ingress', '    address: 127.0.0.1:8081', '    routes: [{ name: r, match: {}, echo: true }]',
      ...CLUSTERS, '  - name: app', '    endpoints: [127.0.0.1:3001]',
      ...FILTERS, '  - name: headers', '    module: filter.wasm',
    ))).toEqual([
      '6:17 listeners[0].routes[1].name: duplicate route name "r" (first at line 5)',
      '7:11 listeners[1].name: duplicate listener name "ingress" (first at line 2)',
      '13:11 clusters[1].name: duplicate cluster name "app" (first at line 11)',
      '18:11 filters[1].name: duplicate filter name "headers" (first at line 16)',
    ]);
  });

  it('reports listeners that share an address (other than port 0), including the admin one', () => {
    expect(issuesOf(yaml(
      'admin: { address: "127.0.0.1:9000" }',
      'listeners:',
      '  - { name: a, address: "127.0.0.1:9000", routes: [{ match: {}, echo: true }] }',
      '  - { name: b, address: "LOCALHOST:80", routes: [{ match: {}, echo: true }] }',
      '  - { name: c, address: "localhost:80", routes: [{ match: {}, echo: true }] }',
    ))).toEqual([
      '3:25 listeners[0].address: duplicate address "127.0.0.1:9000" (first at line 1)',
      '5:25 listeners[2].address: duplicate address "localhost:80" (first at line 4)',
    ]);
  });

  it('reports references to clusters and filters that do not exist', () => {
    expect(issuesOf(yaml(
      ...LISTENER.slice(0, 3), '    filters: [headers, auth]', '    routes:',
      '      - match: {}', '        cluster: backend', '        filters: [headers, headers, gzip]',
      ...CLUSTERS, ...FILTERS,
    ))).toEqual([
      '4:24 listeners[0].filters[1]: unknown filter "auth" (defined: headers)',
      '7:18 listeners[0].routes[0].cluster: unknown cluster "backend" (defined: app)',
      '8:28 listeners[0].routes[0].filters[1]: filter "headers" is listed twice in this chain',
      '8:37 listeners[0].routes[0].filters[2]: unknown filter "gzip" (defined: headers)',
    ]);
    expect(issuesOf(yaml(...LISTENER, '      - { match: {}, cluster: app }'))).toEqual([
      '5:31 listeners[0].routes[0].cluster: unknown cluster "app" (no clusters are defined)',
    ]);
  });

  it('reports a module file that does not exist, or is not a file', () => {
    expect(issuesOf(yaml(
      ...LISTENER, '      - { match: {}, echo: true }',
      'filters:', '  - { name: a, module: build/nope.wasm }', '  - { name: b, module: . }',
    ))).toEqual([
      `7:24 filters[0].module: module file not found: build/nope.wasm (resolved to ${join(dir, 'build/nope.wasm')})`,
      `8:24 filters[1].module: module is not a file: . (resolved to ${dir})`,
    ]);
  });

  it('reports bad stats tags, environment variables and http_call hosts', () => {
    expect(issuesOf(yaml(
      ...LISTENER, '      - { match: {}, echo: true }',
      'stats:', '  tags:', '    - { tag_name: value, regex: "_value=[a-z]+" }', '    - { tag_name: 9x, regex: "(" }',
      'filters:', '  - name: f', '    module: filter.wasm', '    env: { "A=B": 1, C: [x] }', '    http_call_hosts: [nohost]',
    ))).toEqual([
      '8:33 stats.tags[0].regex: needs at least one capture group (the part to cut out of the metric name)',
      '9:19 stats.tags[1].tag_name: must be a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)',
      '9:30 stats.tags[1].regex: invalid regular expression: Invalid regular expression: /(/: Unterminated group',
      '13:12 filters[0].env["A=B"]: an environment variable name must be non-empty and contain no "="',
      '13:25 filters[0].env.C: expected a string, number or boolean, got a list',
      '14:23 filters[0].http_call_hosts[0]: expected "host:port", like "127.0.0.1:8080" or "[::1]:8080" (got "nohost")',
    ]);
  });

  it('reports bad durations, sizes and enum values', () => {
    expect(issuesOf(yaml(
      'log_level: verbose',
      ...LISTENER.slice(0, 3), '    max_request_body_bytes: 1 gallon', '    stream_idle_timeout: a while', '    routes: [{ match: {}, cluster: app }]',
      ...CLUSTERS, '    connect_timeout: 0', '    timeout: 1.5ms',
      ...FILTERS, '    failure_policy: ignore',
    ))).toEqual([
      '1:12 log_level: expected one of trace, debug, info, warn, error, critical (got "verbose")',
      '5:29 listeners[0].max_request_body_bytes: expected a size like 65536, "64KiB", "1MiB" or "1MB" (got "1 gallon")',
      '6:26 listeners[0].stream_idle_timeout: expected a duration like "250ms", "1.5s", "2m" or a number of milliseconds (got "a while")',
      '11:22 clusters[0].connect_timeout: must be greater than 0',
      '12:14 clusters[0].timeout: expected a duration like "250ms", "1.5s", "2m" or a number of milliseconds, not a fraction of a millisecond',
      '16:21 filters[0].failure_policy: expected one of fail_closed, fail_open (got "ignore")',
    ]);
  });

  it('reports a bad max_connections, and request headers allowed longer than the whole request', () => {
    expect(issuesOf(yaml(
      'max_connections: 0',
      ...LISTENER.slice(0, 3), '    request_timeout: 5s', '    request_headers_timeout: 10s', '    idle_timeout: soon', '    routes: [{ match: {}, cluster: app }]',
      ...CLUSTERS, '    max_connections: 2.5', '    max_pending_requests: -1',
    ))).toEqual([
      '1:18 max_connections: expected a whole number from 1 to 1073741824, or "auto"',
      '6:30 listeners[0].request_headers_timeout: cannot be longer than request_timeout (5000ms): the headers are part of the request',
      '7:19 listeners[0].idle_timeout: expected a duration like "250ms", "1.5s", "2m" or a number of milliseconds (got "soon")',
      '12:22 clusters[0].max_connections: expected a whole number from 1 to 1048576',
      '13:27 clusters[0].max_pending_requests: expected a whole number from 0 to 1048576',
    ]);
    // A request_timeout alone brings the headers' default down to it.
    const config = parseConfig(yaml('max_connections: auto', ...LISTENER.slice(0, 3), '    request_timeout: 5s', '    routes: [{ match: {}, cluster: app }]', ...CLUSTERS), file);
    expect(config.maxConnections).toBe('auto');
    expect(config.listeners[0]).toMatchObject({ requestTimeoutMs: 5000, requestHeadersTimeoutMs: 5000 });
  });

  it('reports bad addresses', () => {
    expect(issuesOf(yaml(
      'admin: { address: "::1:9901" }',
      ...LISTENER.slice(0, 2), '    address: 127.0.0.1:70000', '    routes: [{ match: {}, cluster: app }]',
      'clusters:', '  - name: app', '    endpoints: [localhost, "[::1]:80", 10.0.0.256:80]',
    ))).toEqual([
      '1:19 admin.address: expected "host:port", like "127.0.0.1:8080" or "[::1]:8080"; put IPv6 addresses in brackets',
      '4:14 listeners[0].address: port must be between 0 and 65535 (got 70000)',
      '8:17 clusters[0].endpoints[0]: expected "host:port", like "127.0.0.1:8080" or "[::1]:8080" (got "localhost")',
      '8:40 clusters[0].endpoints[2]: invalid host "10.0.0.256": expected "host:port", like "127.0.0.1:8080" or "[::1]:8080"',
    ]);
  });

  it('reports prefix together with path, and conflicting header conditions', () => {
    expect(issuesOf(yaml(
      ...LISTENER,
      '      - match:',
      '          path: /a',
      '          prefix: /',
      '          headers: [{ name: x, exact: "1", present: true }, { name: "bad name" }]',
      '        echo: true',
    ))).toEqual([
      '7:11 listeners[0].routes[0].match.prefix: "prefix" cannot be combined with "path"; use either "prefix" or "path"',
      '8:44 listeners[0].routes[0].match.headers[0].present: "present" cannot be combined with "exact"; a header match takes one of "exact", "prefix", "present"',
      '8:69 listeners[0].routes[0].match.headers[1].name: invalid header name "bad name"',
    ]);
  });

  it('reports match values in the wrong form', () => {
    expect(issuesOf(yaml(
      ...LISTENER,
      '      - match: { prefix: api, methods: [get, "PO ST"], host: "example.com:8080" }',
      '        echo: true',
      '      - match: { methods: [] }',
      '        echo: true',
    ))).toEqual([
      '5:26 listeners[0].routes[0].match.prefix: must start with "/" (got "api")',
      '5:41 listeners[0].routes[0].match.methods[0]: method names are upper-case: write "GET"',
      '5:46 listeners[0].routes[0].match.methods[1]: invalid method name "PO ST"',
      '5:62 listeners[0].routes[0].match.host: expected a host like "example.com" or "*.example.com", without a port (got "example.com:8080")',
      '7:27 listeners[0].routes[1].match.methods: must not be empty (leave "methods" out to match any method)',
    ]);
  });

  it('reports routes with two actions or none', () => {
    expect(issuesOf(yaml(
      ...LISTENER,
      '      - match: {}',
      '        cluster: app',
      '        direct_response: { status: 200 }',
      '        echo: true',
      '      - match: {}',
      '        echo: false',
      '      - match: {}',
      '        direct_response: { status: 700, headers: { x-a: 1 } }',
      ...CLUSTERS,
    ))).toEqual([
      '7:9 listeners[0].routes[0].direct_response: "direct_response" cannot be combined with "cluster"; a route takes exactly one of "cluster", "direct_response", "echo: true"',
      '8:9 listeners[0].routes[0].echo: "echo" cannot be combined with "cluster"; a route takes exactly one of "cluster", "direct_response", "echo: true"',
      '9:9 listeners[0].routes[1]: missing an action: a route takes exactly one of "cluster", "direct_response", "echo: true"',
      '12:36 listeners[0].routes[2].direct_response.status: expected an HTTP status from 200 to 599 (got 700)',
      '12:57 listeners[0].routes[2].direct_response.headers.x-a: expected a string, got a number (1)',
    ]);
  });

  it('reports empty lists that must not be', () => {
    expect(issuesOf(yaml('listeners: []'))).toEqual(['1:12 listeners: at least one listener is needed']);
    expect(issuesOf(yaml(...LISTENER.slice(0, 3), '    routes: []', 'clusters: [{ name: app, endpoints: [] }]'))).toEqual([
      '4:13 listeners[0].routes: a listener needs at least one route',
      '5:36 clusters[0].endpoints: a cluster needs at least one endpoint',
    ]);
  });

  it('reports an empty document or one that is not a map', () => {
    expect(issuesOf('')).toEqual(['1:1 : the config is empty; it needs at least a "listeners" list']);
    expect(issuesOf('# nothing here\n')).toEqual(['1:1 : the config is empty; it needs at least a "listeners" list']);
    expect(issuesOf('- listeners\n')).toEqual(['1:1 : expected a map, got a list']);
  });

  it('turns YAML syntax errors into positioned issues, and checks nothing else', () => {
    expect(issuesOf(yaml('log_level: loud', 'listeners:', '  - name: a', '    name: b'))).toEqual([
      '4:5 : invalid YAML: Map keys must be unique',
    ]);
    expect(issuesOf(yaml('listeners: [', 'clusters: x'))).toEqual([
      '2:1 : invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('collects every problem from a file, in file order, and formats them one per line', () => {
    let error: unknown;
    try {
      loadConfig('test/fixtures/configs/many-errors.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { issues, message } = error as ConfigError;
    expect(issues).toHaveLength(11);
    expect(issues[0]).toEqual({
      file: 'test/fixtures/configs/many-errors.yaml',
      line: 2,
      col: 12,
      path: 'log_level',
      message: 'expected one of trace, debug, info, warn, error, critical (got "loud")',
    });
    expect(message.split('\n')).toEqual(issues.map(formatIssue));
    expect(issues.map((issue) => issue.line)).toEqual([2, 5, 6, 8, 9, 10, 12, 17, 18, 19, 22]);
    expect(message).toContain(`module file not found: modules/missing.wasm (resolved to ${join(FIXTURES, 'modules/missing.wasm')})`);
  });

  it('reports an unreadable config file without a position', () => {
    expect(() => loadConfig('test/fixtures/configs/absent.yaml')).toThrow(
      new ConfigError([{ file: 'test/fixtures/configs/absent.yaml', line: 0, col: 0, path: '', message: 'cannot read config: file not found' }]),
    );
    // Paths inside the working directory are shown relative to it.
    expect(() => loadConfig(join(FIXTURES, 'absent.yaml'))).toThrow('test/fixtures/configs/absent.yaml: cannot read config: file not found');
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    expect(() => loadConfig(sub)).toThrow(/cannot read config: EISDIR/);
  });
});

describe('formatIssue', () => {
  it('writes FILE:LINE:COL path: message, leaving out what does not apply', () => {
    const issue = { file: 'config.yaml', line: 3, col: 7, path: 'listeners[0].name', message: 'must not be empty' };
    expect(formatIssue(issue)).toBe('config.yaml:3:7 listeners[0].name: must not be empty');
    expect(formatIssue({ ...issue, path: '' })).toBe('config.yaml:3:7: must not be empty');
    expect(formatIssue({ ...issue, line: 0, col: 0, path: '' })).toBe('config.yaml: must not be empty');
  });
});
