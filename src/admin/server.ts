// The admin port: liveness, readiness, Prometheus metrics and the effective configuration.

import type { Server } from 'node:http';
import { createServer } from '../node-http.ts';
import type { SluiceConfig } from '../config/types.ts';

export interface AdminState {
  ready: boolean;
}

/** Where /metrics comes from: one proxy's metrics, or the supervisor gathering its workers'. */
export interface MetricsSource {
  render(): string | Promise<string>;
}

export function createAdminServer(config: SluiceConfig, metrics: MetricsSource, state: AdminState): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case '/ready':
        res.writeHead(state.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(state.ready ? 'ready\n' : 'starting\n');
        return;
      case '/metrics':
        Promise.resolve(metrics.render()).then(
          (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${String(err)}\n`),
        );
        return;
      case '/config_dump':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config, null, 2) + '\n');
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /healthz /ready /metrics /config_dump\n');
    }
  });
}
