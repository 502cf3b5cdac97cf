// The embedding side of proxy_http_call: a call to a named cluster, with the guest's headers,
// body and timeout, collected in full and handed back as pairs.

import type { Dispatcher } from 'undici';
import type { HttpCallRequest, HttpCallResponse, PluginServices } from '../abi/plugin.ts';
import { MAX_HTTP_CALL_BODY_BYTES } from '../abi/limits.ts';
import type { Pair } from '../abi/pairs.ts';
import type { Clusters } from './cluster.ts';
import { isHopByHop } from './headers.ts';

function rawToPairs(raw: Buffer[] | null): Pair[] {
  const pairs: Pair[] = [];
  if (raw === null) return pairs;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    if (!isHopByHop(name)) pairs.push([name, raw[i + 1]!.toString('latin1')]);
  }
  return pairs;
}

class TimeoutError extends Error {
  readonly code = 'SLUICE_UPSTREAM_TIMEOUT';
}

export function httpCallService(clusters: Clusters): PluginServices {
  return {
    httpCall(request: HttpCallRequest, done: (result: HttpCallResponse | Error) => void): string | (() => void) {
      const cluster = clusters.get(request.upstream);
      if (cluster === undefined) return `unknown cluster '${request.upstream}'`;
      const headers: string[] = [];
      let method = 'GET';
      let path = '/';
      for (const [name, value] of request.headers) {
        if (name === ':method') method = value;
        else if (name === ':path') path = value;
        else if (name === ':authority') headers.push('host', value);
        else if (!name.startsWith(':') && !isHopByHop(name) && name !== 'content-length') headers.push(name, value);
      }
      if (request.body.length > 0) headers.push('content-length', String(request.body.length));
      let abort: ((err?: Error) => void) | null = null;
      let finished = false;
      let status = 0;
      let responseHeaders: Pair[] = [];
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (result: HttpCallResponse | Error) => {
        if (finished) return;
        finished = true;
        if (timer !== null) clearTimeout(timer);
        done(result);
      };
      const timer =
        request.timeoutMs > 0
          ? setTimeout(() => {
              finish(new TimeoutError(`http_call to '${request.upstream}' timed out after ${request.timeoutMs} ms`));
              abort?.();
            }, request.timeoutMs)
          : null;
      const handler: Dispatcher.DispatchHandler = {
        onConnect: (a) => {
          abort = a;
          if (finished) a();
        },
        onHeaders: (statusCode, raw) => {
          status = statusCode;
          responseHeaders = [[':status', String(statusCode)], ...rawToPairs(raw as unknown as Buffer[])];
          return true;
        },
        onData: (chunk) => {
          size += chunk.length;
          if (size > MAX_HTTP_CALL_BODY_BYTES) {
            finish(new Error(`http_call response body over ${MAX_HTTP_CALL_BODY_BYTES} bytes`));
            abort?.();
            return false;
          }
          chunks.push(chunk);
          return true;
        },
        onComplete: (trailers) => {
          if (status === 0) return finish(new Error('no response'));
          finish({ headers: responseHeaders, body: Buffer.concat(chunks), trailers: rawToPairs(trailers as unknown as Buffer[] | null) });
        },
        onError: (err) => finish(err),
      };
      cluster.pick().dispatch(
        { method: method as Dispatcher.HttpMethod, path, headers, body: request.body.length > 0 ? request.body : null },
        handler,
      );
      return () => {
        finish(new Error('cancelled'));
        abort?.();
      };
    },
  };
}
