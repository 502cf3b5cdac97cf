// The root logger. pino's levels, with Proxy-Wasm's "critical" mapped to pino's "fatal".

import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevelName } from './config/types.ts';
import { stdoutDestination } from './log-destination.ts';

export function pinoLevel(level: LogLevelName): pino.Level {
  return level === 'critical' ? 'fatal' : level;
}

/** Logs to `destination`, by default to this thread's stdout writer (log-destination.ts). */
export function createLogger(level: LogLevelName, destination?: DestinationStream): Logger {
  const options = { level: pinoLevel(level), base: { pid: process.pid } };
  return pino(options, destination ?? stdoutDestination());
}
