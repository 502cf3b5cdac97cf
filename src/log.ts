// The root logger. pino's levels, with Proxy-Wasm's "critical" mapped to pino's "fatal".

import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevelName } from './config/types.ts';

export function pinoLevel(level: LogLevelName): pino.Level {
  return level === 'critical' ? 'fatal' : level;
}

export function createLogger(level: LogLevelName, destination?: DestinationStream): Logger {
  const options = { level: pinoLevel(level), base: { pid: process.pid } };
  return destination === undefined ? pino(options) : pino(options, destination);
}
