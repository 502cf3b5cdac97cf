// The admin port: liveness, readiness, Prometheus metrics and the effective configuration.

import type { Server, ServerResponse } from 'node:http';
import { createServer } from '../node-http.ts';
import type { SluiceConfig } from '../config/types.ts';

export interface AdminState {
  ready: boolean;
}

/** Where /metrics comes from: one proxy's metrics, or the supervisor gathering its workers'. */
export interface MetricsSource {
  render(): string | Promise<string>;
}

const PATHS: readonly string[] = ['/healthz', '/ready', '/metrics', '/config_dump'];

/** `config` gives the configuration in force (a reload replaces it). */
export function createAdminServer(config: () => SluiceConfig, metrics: MetricsSource, state: AdminState): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (!PATHS.includes(path)) {
      answer(res, 404, 'text/plain', `not found; try ${PATHS.join(' ')}\n`);
      return;
    }
    // Every path only reads: a POST or DELETE that answered 200 would look as if it had done
    // something (Envoy's admin refuses the wrong method too).
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      answer(res, 405, 'text/plain', `${path} takes GET or HEAD\n`);
      return;
    }
    switch (path) {
      case '/healthz':
        answer(res, 200, 'text/plain', 'ok\n');
        return;
      case '/ready':
        answer(res, state.ready ? 200 : 503, 'text/plain', state.ready ? 'ready\n' : 'starting\n');
        return;
      case '/metrics':
        Promise.resolve(metrics.render()).then(
          (text) => answer(res, 200, 'text/plain; version=0.0.4', text),
          (err: unknown) => answer(res, 500, 'text/plain', `metrics unavailable: ${String(err)}\n`),
        );
        return;
      default:
        answer(res, 200, 'application/json', JSON.stringify(config(), null, 2) + '\n');
    }
  });
}

/** Node leaves the body out of an answer to HEAD itself; the length is the GET's. */
function answer(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body);
}
