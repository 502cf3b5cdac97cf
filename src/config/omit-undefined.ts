/**
 * Drops keys whose value is undefined, so optional config fields are absent
 * rather than present-but-undefined (cleaner to log, compare and serialise).
 */
export function omitUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
