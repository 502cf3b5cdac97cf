import { describe, expect, it } from 'vitest';
import type { LocalReply } from '../../src/abi/context.ts';
import { localReply, localReplyHeaders } from '../../src/proxy/local-reply.ts';

function reply(overrides: Partial<LocalReply>): LocalReply {
  return { status: 200, details: 'test', body: Buffer.alloc(0), headers: [], grpcStatus: -1, ...overrides };
}

describe('localReply', () => {
  it('builds a plain reply with no extra headers', () => {
    const r = localReply(503, 'no_healthy_upstream', 'upstream down');
    expect(r.status).toBe(503);
    expect(r.details).toBe('no_healthy_upstream');
    expect(r.body.toString()).toBe('upstream down');
    expect(r.headers).toEqual([]);
    expect(r.grpcStatus).toBe(-1);
  });

  it('defaults to an empty body and encodes text as UTF-8', () => {
    expect(localReply(404, 'x').body.length).toBe(0);
    expect([...localReply(400, 'x', 'é').body]).toEqual([0xc3, 0xa9]);
  });
});

describe('localReplyHeaders (HTTP)', () => {
  it('adds text/plain and content-length for a body', () => {
    const { headers, body } = localReplyHeaders(localReply(403, 'denied', 'forbidden'));
    expect(headers.pairs()).toEqual([
      [':status', '403'],
      ['content-type', 'text/plain'],
      ['content-length', '9'],
    ]);
    expect(body.toString()).toBe('forbidden');
  });

  it('content-length counts bytes, not characters', () => {
    const { headers } = localReplyHeaders(localReply(200, 'x', 'héllo'));
    expect(headers.get('content-length')).toBe('6');
  });

  it('an empty body gets content-length 0 and no content-type', () => {
    const { headers, body } = localReplyHeaders(localReply(204, 'x'));
    expect(headers.pairs()).toEqual([
      [':status', '204'],
      ['content-length', '0'],
    ]);
    expect(body.length).toBe(0);
  });

  it('keeps the filter\'s headers (lower-cased, in order) and its content-type', () => {
    const { headers } = localReplyHeaders(
      reply({
        status: 401,
        body: Buffer.from('{"e":1}'),
        headers: [
          ['WWW-Authenticate', 'Bearer'],
          ['Content-Type', 'application/json'],
          ['x-dup', 'a'],
          ['x-dup', 'b'],
        ],
      }),
    );
    expect(headers.pairs()).toEqual([
      [':status', '401'],
      ['www-authenticate', 'Bearer'],
      ['content-type', 'application/json'],
      ['x-dup', 'a'],
      ['x-dup', 'b'],
      ['content-length', '7'],
    ]);
  });

  it('overrides a content-length supplied by the filter with the real one', () => {
    const { headers } = localReplyHeaders(reply({ body: Buffer.from('abc'), headers: [['Content-Length', '999']] }));
    expect(headers.getJoined('content-length')).toBe('3');
  });

  it.each([-1, 17, 100])('grpcStatus %i is a plain HTTP reply', (grpcStatus) => {
    const { headers, body } = localReplyHeaders(reply({ status: 500, body: Buffer.from('err'), grpcStatus }));
    expect(headers.get(':status')).toBe('500');
    expect(headers.get('content-type')).toBe('text/plain');
    expect(headers.has('grpc-status')).toBe(false);
    expect(body.toString()).toBe('err');
  });
});

describe('localReplyHeaders (gRPC trailers-only)', () => {
  it('answers 200 with grpc-status/grpc-message in the headers and no body', () => {
    const { headers, body } = localReplyHeaders(
      reply({ status: 403, body: Buffer.from('access denied: 100%'), grpcStatus: 7 }),
    );
    expect(headers.pairs()).toEqual([
      [':status', '200'],
      ['content-type', 'application/grpc'],
      ['grpc-status', '7'],
      ['grpc-message', 'access%20denied%3A%20100%25'],
      ['content-length', '0'],
    ]);
    expect(body.length).toBe(0);
  });

  it('omits grpc-message for an empty body and accepts status 0 and 16', () => {
    const ok = localReplyHeaders(reply({ grpcStatus: 0 }));
    expect(ok.headers.pairs()).toEqual([
      [':status', '200'],
      ['content-type', 'application/grpc'],
      ['grpc-status', '0'],
      ['content-length', '0'],
    ]);
    expect(localReplyHeaders(reply({ grpcStatus: 16 })).headers.get('grpc-status')).toBe('16');
  });

  it('replaces a filter-supplied content-type and keeps other filter headers', () => {
    const { headers } = localReplyHeaders(
      reply({ status: 429, grpcStatus: 8, headers: [['content-type', 'text/html'], ['x-ratelimit', '0']] }),
    );
    expect(headers.pairs()).toEqual([
      [':status', '200'],
      ['content-type', 'application/grpc'],
      ['x-ratelimit', '0'],
      ['grpc-status', '8'],
      ['content-length', '0'],
    ]);
  });

  it('percent-encodes non-ASCII messages as UTF-8', () => {
    const { headers } = localReplyHeaders(reply({ grpcStatus: 3, body: Buffer.from('naïve') }));
    expect(headers.get('grpc-message')).toBe('na%C3%AFve');
  });
});
