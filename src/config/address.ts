// Parser for `host:port` addresses (listeners, admin, cluster endpoints).

import { isIPv4, isIPv6 } from 'node:net';
import { ValueError } from './errors.ts';
import type { HostPort } from './types.ts';

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
const ALL_NUMERIC = /^[\d.]+$/;

/** "127.0.0.1:8080", "localhost:80", "[::1]:8080"; port 0 (pick any) is allowed. */
export function parseHostPort(text: string): HostPort {
  const hint = 'expected "host:port", like "127.0.0.1:8080" or "[::1]:8080"';
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/.exec(text.trim());
  if (!m) {
    const bareIPv6 = isIPv6(text.replace(/:\d+$/, '')) || isIPv6(text);
    throw new ValueError(bareIPv6 ? `${hint}; put IPv6 addresses in brackets` : `${hint} (got ${JSON.stringify(text)})`);
  }
  const [, ipv6, host = '', portText = ''] = m;
  const port = Number(portText);
  if (port > 65535) throw new ValueError(`port must be between 0 and 65535 (got ${portText})`);
  if (ipv6 !== undefined) {
    if (!isIPv6(ipv6)) throw new ValueError(`invalid IPv6 address ${JSON.stringify(ipv6)}`);
    return { host: ipv6, port };
  }
  if (!isValidHost(host)) throw new ValueError(`invalid host ${JSON.stringify(host)}: ${hint}`);
  return { host, port };
}

/** The address as written in a config: brackets around IPv6 literals. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A host name or IPv4 address (IPv6 literals are checked separately, inside brackets). */
export function isValidHost(host: string): boolean {
  // "300.1.1.1" fits the hostname grammar but is clearly a mistyped IPv4 address.
  if (ALL_NUMERIC.test(host)) return isIPv4(host);
  return HOSTNAME.test(host);
}
