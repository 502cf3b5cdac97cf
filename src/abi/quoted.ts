// What a guest passed, as the host's own log lines quote it: a guest can pass megabytes where a
// name is expected, and a line about it must stay a line.

/** Longest guest-supplied text a host log line quotes whole. */
export const MAX_QUOTED_CHARS = 100;

/** `text`, or its first MAX_QUOTED_CHARS characters and how long it was. */
export function quoted(text: string): string {
  return text.length <= MAX_QUOTED_CHARS ? text : `${text.slice(0, MAX_QUOTED_CHARS)}… (${text.length} characters)`;
}
