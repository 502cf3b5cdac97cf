// Log helpers that prefix every message with the filter name, so operators
// can tell which filter spoke in the host's log.
import { log, LogLevelValues } from "@solo-io/proxy-runtime";

export function logDebug(filter: string, message: string): void {
  log(LogLevelValues.debug, filter + ": " + message);
}

export function logInfo(filter: string, message: string): void {
  log(LogLevelValues.info, filter + ": " + message);
}

export function logError(filter: string, message: string): void {
  log(LogLevelValues.error, filter + ": " + message);
}
