import { describe, expect, it } from 'vitest';
import { HeaderMap } from '../../src/abi/header-map.ts';
import type { RouteConfig, RouteMatch } from '../../src/config/types.ts';
import { compileMatch, Router } from '../../src/proxy/router.ts';

function req(path: string, extra: Array<[string, string]> = [], method = 'GET', authority = 'example.com'): HeaderMap {
  return HeaderMap.fromPairs([[':authority', authority], [':path', path], [':method', method], [':scheme', 'http'], ...extra]);
}

function matches(match: RouteMatch, headers: HeaderMap): boolean {
  return compileMatch(match)(headers);
}

function route(name: string, match: RouteMatch): RouteConfig {
  return { name, match, cluster: 'c', filters: [], maxRequestBodyBytes: 1024, maxResponseBodyBytes: 1024, metadata: {} };
}

describe('compileMatch', () => {
  it('an empty match matches everything', () => {
    expect(matches({}, req('/anything'))).toBe(true);
    expect(matches({}, new HeaderMap())).toBe(true);
  });

  describe('prefix', () => {
    it('matches paths starting with the prefix', () => {
      const m = compileMatch({ prefix: '/api' });
      expect(m(req('/api'))).toBe(true);
      expect(m(req('/api/users'))).toBe(true);
      expect(m(req('/apiary'))).toBe(true); // plain string prefix, as in Envoy
      expect(m(req('/ap'))).toBe(false);
      expect(m(req('/other/api'))).toBe(false);
    });

    it('is case-sensitive', () => {
      expect(matches({ prefix: '/api' }, req('/API/x'))).toBe(false);
    });

    it('looks at the path only, not the query', () => {
      const m = compileMatch({ prefix: '/api/v1' });
      expect(m(req('/api?x=/api/v1'))).toBe(false);
      expect(m(req('/api/v1?debug=1'))).toBe(true);
    });

    it('"/" matches every path', () => {
      expect(matches({ prefix: '/' }, req('/'))).toBe(true);
      expect(matches({ prefix: '/' }, req('/x/y'))).toBe(true);
    });

    it('a missing :path does not match a non-root prefix', () => {
      expect(matches({ prefix: '/api' }, HeaderMap.fromPairs([[':method', 'GET']]))).toBe(false);
    });
  });

  describe('exact path', () => {
    it('matches the path exactly, ignoring the query string', () => {
      const m = compileMatch({ path: '/health' });
      expect(m(req('/health'))).toBe(true);
      expect(m(req('/health?verbose=1'))).toBe(true);
      expect(m(req('/health?'))).toBe(true);
      expect(m(req('/health/'))).toBe(false);
      expect(m(req('/healthz'))).toBe(false);
      expect(m(req('/'))).toBe(false);
    });
  });

  describe('methods', () => {
    it('matches any listed method, case-sensitively', () => {
      const m = compileMatch({ methods: ['GET', 'HEAD'] });
      expect(m(req('/', [], 'GET'))).toBe(true);
      expect(m(req('/', [], 'HEAD'))).toBe(true);
      expect(m(req('/', [], 'POST'))).toBe(false);
      expect(m(req('/', [], 'get'))).toBe(false);
    });
  });

  describe('host', () => {
    it('matches the host case-insensitively and ignores the port', () => {
      const m = compileMatch({ host: 'example.com' });
      expect(m(req('/', [], 'GET', 'example.com'))).toBe(true);
      expect(m(req('/', [], 'GET', 'EXAMPLE.com'))).toBe(true);
      expect(m(req('/', [], 'GET', 'example.com:8080'))).toBe(true);
      expect(m(req('/', [], 'GET', 'www.example.com'))).toBe(false);
      expect(m(req('/', [], 'GET', 'example.com.evil'))).toBe(false);
      expect(m(req('/', [], 'GET', ''))).toBe(false);
    });

    it('lower-cases the configured pattern', () => {
      expect(matches({ host: 'Example.COM' }, req('/', [], 'GET', 'example.com'))).toBe(true);
    });

    it('"*.example.com" matches subdomains only', () => {
      const m = compileMatch({ host: '*.example.com' });
      expect(m(req('/', [], 'GET', 'a.example.com'))).toBe(true);
      expect(m(req('/', [], 'GET', 'a.b.example.com'))).toBe(true);
      expect(m(req('/', [], 'GET', 'API.Example.Com:443'))).toBe(true);
      expect(m(req('/', [], 'GET', 'example.com'))).toBe(false);
      expect(m(req('/', [], 'GET', 'badexample.com'))).toBe(false);
      expect(m(req('/', [], 'GET', '.example.com'))).toBe(false);
      expect(m(req('/', [], 'GET', 'a.example.org'))).toBe(false);
    });

    it('handles IPv6 literals with and without a port', () => {
      const m = compileMatch({ host: '[::1]' });
      expect(m(req('/', [], 'GET', '[::1]:80'))).toBe(true);
      expect(m(req('/', [], 'GET', '[::1]'))).toBe(true);
      expect(m(req('/', [], 'GET', '[::2]:80'))).toBe(false);
      expect(m(req('/', [], 'GET', '127.0.0.1'))).toBe(false);
    });

    it('IPv4 with port', () => {
      const m = compileMatch({ host: '127.0.0.1' });
      expect(m(req('/', [], 'GET', '127.0.0.1:8080'))).toBe(true);
      expect(m(req('/', [], 'GET', '127.0.0.10'))).toBe(false);
    });

    it('no :authority does not match', () => {
      expect(matches({ host: 'example.com' }, HeaderMap.fromPairs([[':path', '/']]))).toBe(false);
    });
  });

  describe('headers', () => {
    it('exact compares the joined value', () => {
      const m = compileMatch({ headers: [{ name: 'x-env', exact: 'prod' }] });
      expect(m(req('/', [['x-env', 'prod']]))).toBe(true);
      expect(m(req('/', [['X-Env', 'prod']]))).toBe(true); // names are lower-cased in the map
      expect(m(req('/', [['x-env', 'Prod']]))).toBe(false);
      expect(m(req('/', [['x-env', 'prod2']]))).toBe(false);
      expect(m(req('/'))).toBe(false);
      expect(m(req('/', [['x-env', 'prod'], ['x-env', 'dev']]))).toBe(false);
      expect(compileMatch({ headers: [{ name: 'x-env', exact: 'prod,dev' }] })(req('/', [['x-env', 'prod'], ['x-env', 'dev']]))).toBe(true);
    });

    it('exact "" matches a present empty header but not an absent one', () => {
      const m = compileMatch({ headers: [{ name: 'x-empty', exact: '' }] });
      expect(m(req('/', [['x-empty', '']]))).toBe(true);
      expect(m(req('/'))).toBe(false);
    });

    it('prefix', () => {
      const m = compileMatch({ headers: [{ name: 'authorization', prefix: 'Bearer ' }] });
      expect(m(req('/', [['authorization', 'Bearer abc']]))).toBe(true);
      expect(m(req('/', [['authorization', 'Basic abc']]))).toBe(false);
      expect(m(req('/', [['authorization', 'bearer abc']]))).toBe(false);
      expect(m(req('/'))).toBe(false);
    });

    it('present', () => {
      const m = compileMatch({ headers: [{ name: 'x-debug', present: true }] });
      expect(m(req('/', [['x-debug', '']]))).toBe(true);
      expect(m(req('/', [['x-debug', '1']]))).toBe(true);
      expect(m(req('/'))).toBe(false);
    });

    it('a name-only match means present', () => {
      const m = compileMatch({ headers: [{ name: 'x-debug' }] });
      expect(m(req('/', [['x-debug', '1']]))).toBe(true);
      expect(m(req('/'))).toBe(false);
    });

    it('absent (present: false)', () => {
      const m = compileMatch({ headers: [{ name: 'x-debug', present: false }] });
      expect(m(req('/'))).toBe(true);
      expect(m(req('/', [['x-debug', '1']]))).toBe(false);
    });

    it('all header conditions must hold', () => {
      const m = compileMatch({
        headers: [
          { name: 'a', exact: '1' },
          { name: 'b', present: false },
        ],
      });
      expect(m(req('/', [['a', '1']]))).toBe(true);
      expect(m(req('/', [['a', '1'], ['b', 'x']]))).toBe(false);
      expect(m(req('/', [['a', '2']]))).toBe(false);
    });
  });

  it('every condition must hold together', () => {
    const m = compileMatch({
      prefix: '/api',
      methods: ['POST'],
      host: '*.example.com',
      headers: [{ name: 'content-type', prefix: 'application/json' }],
    });
    const good: Array<[string, string]> = [['content-type', 'application/json; charset=utf-8']];
    expect(m(req('/api/x', good, 'POST', 'api.example.com'))).toBe(true);
    expect(m(req('/web/x', good, 'POST', 'api.example.com'))).toBe(false);
    expect(m(req('/api/x', good, 'GET', 'api.example.com'))).toBe(false);
    expect(m(req('/api/x', good, 'POST', 'example.com'))).toBe(false);
    expect(m(req('/api/x', [['content-type', 'text/plain']], 'POST', 'api.example.com'))).toBe(false);
  });
});

describe('Router', () => {
  const routes = [
    route('health', { path: '/health' }),
    route('api-post', { prefix: '/api', methods: ['POST'] }),
    route('api', { prefix: '/api' }),
    route('admin-host', { host: 'admin.example.com' }),
    route('fallback', {}),
  ];
  const router = new Router(routes);

  it('the first matching route wins', () => {
    expect(router.match(req('/health'))?.config.name).toBe('health');
    expect(router.match(req('/api/x', [], 'POST'))?.config.name).toBe('api-post');
    expect(router.match(req('/api/x', [], 'GET'))?.config.name).toBe('api');
    expect(router.match(req('/api/x', [], 'GET', 'admin.example.com'))?.config.name).toBe('api');
    expect(router.match(req('/x', [], 'GET', 'admin.example.com'))?.config.name).toBe('admin-host');
    expect(router.match(req('/x'))?.config.name).toBe('fallback');
  });

  it('returns the config object it was given', () => {
    expect(router.match(req('/health'))?.config).toBe(routes[0]);
  });

  it('returns undefined when nothing matches', () => {
    const r = new Router([route('only', { path: '/only' })]);
    expect(r.match(req('/other'))).toBeUndefined();
    expect(new Router([]).match(req('/'))).toBeUndefined();
  });

  it('an earlier catch-all shadows later routes', () => {
    const r = new Router([route('all', { prefix: '/' }), route('specific', { path: '/specific' })]);
    expect(r.match(req('/specific'))?.config.name).toBe('all');
  });
});
