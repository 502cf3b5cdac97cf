// What a guest passed, as the host's own log lines quote it: a guest can pass megabytes where a
// name is expected, and a line about it must stay a line.

/** Longest guest-supplied text a host log line quotes whole. */
export const MAX_QUOTED_CHARS = 100;

/**
 * `text`, or its first MAX_QUOTED_CHARS characters and how long it was. Joined, not a template:
 * V8 keeps a slice as a view of the whole string, and a throttled warning keeps its last details,
 * so a quoted slice of a guest's 3 MB name kept all 3 MB alive.
 */
export function quoted(text: string): string {
  return text.length <= MAX_QUOTED_CHARS ? text : [text.slice(0, MAX_QUOTED_CHARS), '… (', text.length, ' characters)'].join('');
}
