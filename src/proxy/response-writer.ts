// The response pipeline's sink: writes what leaves the last filter to the client. Headers wait
// for the first body bytes (or end of stream) so Content-Length can be made right when a filter
// changed the body: exact when the whole body is known, dropped (chunked) when it streams.

import type { ServerResponse } from 'node:http';
import { decimalNumber } from './decimal.ts';
import type { Sink } from './pipeline.ts';
import { isHopByHop, settleContentLength, statusHasNoBody, toRawList, toTrailerObject } from './headers.ts';
import type { HttpStream } from './stream.ts';

/**
 * Response headers the client is not sent: the hop-by-hop ones (Node frames the message itself),
 * except proxy-authenticate and proxy-authorization (18 and 19 characters), which a response
 * may carry to its client (a 407's challenge).
 */
function omittedFromResponse(name: string): boolean {
  return name.length < 18 && isHopByHop(name);
}

export class ResponseWriter implements Sink {
  readonly #stream: HttpStream;
  readonly #res: ServerResponse;
  #headersPending = false;
  /** The response has no body (204, 304, a HEAD's): whatever body bytes arrive are dropped. */
  #bodiless = false;
  #declaredLength = -1;
  #sent = 0;

  constructor(stream: HttpStream, res: ServerResponse) {
    this.#stream = stream;
    this.#res = res;
  }

  get headSent(): boolean {
    return this.#res.headersSent;
  }

  headers(eos: boolean): void {
    this.#headersPending = true;
    if (eos) this.#finish();
  }

  data(chunk: Buffer, eos: boolean): void {
    if (this.#headersPending) this.#writeHead(chunk.length, eos);
    if (chunk.length > 0 && !this.#bodiless) {
      this.#sent += chunk.length;
      this.#stream.bytesSent += chunk.length;
      // The last chunk goes out with end(): headers, body and end in one write.
      if (eos) return this.#end(chunk);
      if (!this.#res.write(chunk)) {
        const flow = this.#stream.responsePipeline;
        flow.hold();
        this.#res.once('drain', () => flow.release());
      }
    }
    if (eos) this.#end();
  }

  trailers(): void {
    this.#finish();
  }

  /** Ends the response; headers still waiting go out first, with no body. */
  #finish(): void {
    if (this.#headersPending) this.#writeHead(0, true);
    this.#end();
  }

  #writeHead(firstChunkLength: number, eos: boolean): void {
    this.#headersPending = false;
    const headers = this.#stream.responseHeaders!;
    const status = this.#finalStatus(headers.get(':status'));
    // A bodiless response keeps whatever length it states (a HEAD's is the GET's, a 304's the
    // representation's), even when body bytes follow: they are dropped, not sent.
    this.#bodiless = statusHasNoBody(status) || this.#stream.method === 'HEAD';
    // `stated`, not declared !== -1: a bodiless response may state a length that is no number.
    let declared: number;
    let stated: boolean;
    if (this.#bodiless) {
      // A 304 or a HEAD's answer may state the length of what it describes; a 204 must not
      // state one at all (RFC 9110 §8.6).
      if (status === 204) headers.remove('content-length');
      const value = headers.get('content-length');
      declared = value === undefined ? -1 : decimalNumber(value);
      stated = value !== undefined;
    } else {
      declared = settleContentLength(headers, eos ? firstChunkLength : -1, this.#stream.responsePipeline.bodyEdited, this.#stream.upstreamContentLength);
      stated = declared !== -1;
    }
    this.#declaredLength = declared;
    this.#stream.statusCode = status;
    const trailers = this.#stream.responseTrailers;
    if (trailers !== null && trailers.size > 0 && !stated) {
      headers.set('trailer', trailers.names.filter((n) => !isHopByHop(n)).join(', '));
    }
    // An answer before the client finished sending its body (a 413, a 401): the connection
    // closes after it, as in Envoy. Kept open, Node would read and drop the rest of the upload
    // for as long as the client sends it.
    if (this.#stream.requestHasBody && !this.#stream.requestBodyReceived) this.#res.shouldKeepAlive = false;
    this.#res.writeHead(status, toRawList(headers, omittedFromResponse));
  }

  /**
   * The response's status code from :status as the filters left it. Anything but a final status
   * (200-999, the range send_local_response accepts) becomes 502: Node would throw on it, or
   * send an informational response the client would wait past.
   */
  #finalStatus(value: string | undefined): number {
    const status = value === undefined ? NaN : decimalNumber(value);
    if (Number.isInteger(status) && status >= 200 && status <= 999) return status;
    this.#stream.listener.warnings.warn('response :status is not a final status code; sending 502', this.#stream.logger, { status: value });
    return 502;
  }

  #end(lastChunk?: Buffer): void {
    const res = this.#res;
    if (res.writableEnded) return;
    this.#stream.responseEnded = true;
    const trailers = this.#stream.responseTrailers;
    if (trailers !== null && trailers.size > 0 && this.#declaredLength === -1) res.addTrailers(toTrailerObject(trailers));
    if (this.#declaredLength !== -1 && this.#declaredLength !== this.#sent && !this.#bodiless) {
      // A filter changed the length of a body whose Content-Length was already on the wire.
      this.#stream.logger.error({ declared: this.#declaredLength, sent: this.#sent }, 'response body length changed after headers were sent; resetting');
      res.destroy();
      return;
    }
    if (lastChunk === undefined) res.end();
    else res.end(lastChunk);
  }
}
