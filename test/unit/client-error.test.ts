import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { answerClientError, type ClientErrorAnswer } from '../../src/proxy/client-error.ts';

/**
 * What answerClientError writes to a connection for a parse error with `code` when no request
 * was made, whether it destroyed the connection, and what it reported for the access log.
 */
function answer(code: string, writable = true): { written: string; destroyed: boolean; reported: ClientErrorAnswer[] } {
  const socket = new PassThrough();
  let written = '';
  const reported: ClientErrorAnswer[] = [];
  socket.on('data', (c: Buffer) => (written += c.toString('latin1')));
  if (!writable) socket.end();
  answerClientError(Object.assign(new Error(code), { code }), socket, undefined, (a) => reported.push(a));
  socket.read();
  return { written, destroyed: socket.destroyed, reported };
}

describe('answerClientError', () => {
  it("answers Node's status for the error and closes the connection", () => {
    const overflow = answer('HPE_HEADER_OVERFLOW');
    expect(overflow.written).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(overflow.written).toContain('connection: close\r\n');
    expect(answer('ERR_HTTP_REQUEST_TIMEOUT').written).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(answer('HPE_INVALID_METHOD').written).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer('HPE_CHUNK_EXTENSIONS_OVERFLOW').written).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
  });

  it('reports each answer to a request Node never made, with Envoy-style details', () => {
    expect(answer('HPE_INVALID_HEADER_TOKEN').reported).toEqual([{ status: 400, details: 'http1.codec_error{HPE_INVALID_HEADER_TOKEN}' }]);
    expect(answer('HPE_HEADER_OVERFLOW').reported).toEqual([{ status: 431, details: 'http1.codec_error{HPE_HEADER_OVERFLOW}' }]);
    // Before any request was made, a timeout can only be the headers'.
    expect(answer('ERR_HTTP_REQUEST_TIMEOUT').reported).toEqual([{ status: 408, details: 'request_header_timeout' }]);
  });

  it('writes nothing to a connection the client reset or already closed', () => {
    const reset = answer('ECONNRESET');
    expect(reset.written).toBe('');
    expect(reset.destroyed).toBe(true);
    const closed = answer('HPE_INVALID_METHOD', false);
    expect(closed.written).toBe('');
    expect(closed.destroyed).toBe(true);
    expect(closed.reported).toEqual([]);
  });
});
