// The request target (RFC 9112 §3.2) as routes, filters and the upstream see it: the path
// with its dot-segments removed, and for an absolute-form target (`GET http://host/path`) the
// authority taken from the target instead of Host. Without this, `/x/../private` or
// `http://any/private` would match a route other than the one for /private, skipping that
// route's filters, while an upstream that resolves the dots itself serves /private.

/** `target` as a path, or null when it is neither origin-form nor absolute-form (→ 400). */
export function originPath(target: string): string | null {
  if (target.charCodeAt(0) !== 47 /* '/' */) return null;
  // A dot-segment always follows a slash, spelled `.` or `%2e`: most paths have neither.
  return target.includes('/.') || target.includes('/%2') ? removeDotSegments(target) : target;
}

/**
 * An absolute-form target split into [authority, path], or null when it is not one sluice
 * serves: an http or https URL with a host and no userinfo.
 */
export function absoluteTarget(target: string): [authority: string, path: string] | null {
  const colon = target.indexOf('://');
  if (colon === -1) return null;
  const scheme = target.slice(0, colon).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return null;
  const start = colon + 3;
  let end = start;
  while (end < target.length && target[end] !== '/' && target[end] !== '?') end++;
  const authority = target.slice(start, end);
  if (authority === '' || authority.includes('@')) return null;
  const rest = target.slice(end);
  const path = originPath(rest === '' || rest.charCodeAt(0) === 63 /* '?' */ ? `/${rest}` : rest);
  return path === null ? null : [authority, path];
}

/**
 * RFC 3986 §5.2.4 on the path part (the query is kept as it is), with `%2e` read as a dot as
 * §6.2.2.2 asks. Empty segments stay: `//a` is not `/a`, as in Envoy without merge_slashes.
 */
export function removeDotSegments(target: string): string {
  const q = target.indexOf('?');
  const query = q === -1 ? '' : target.slice(q);
  const input = (q === -1 ? target : target.slice(0, q)).split('/');
  const out: string[] = [];
  // input[0] is the empty string before the leading slash.
  for (let i = 1; i < input.length; i++) {
    const segment = input[i]!;
    const dots = dotSegment(segment);
    if (dots === 0) {
      out.push(segment);
      continue;
    }
    if (dots === 2) out.pop();
    // A path ending in a dot-segment names a directory: `/a/b/..` is `/a/`.
    if (i === input.length - 1) out.push('');
  }
  return `/${out.join('/')}${query}`;
}

/** 1 for `.`, 2 for `..` (either dot possibly spelled %2e, any case), else 0. */
function dotSegment(segment: string): number {
  switch (segment.length) {
    case 1:
      return segment === '.' ? 1 : 0;
    case 2:
      return segment === '..' ? 2 : 0;
    case 3:
      return isEncodedDot(segment, 0) ? 1 : 0;
    case 4:
      return (segment[0] === '.' && isEncodedDot(segment, 1)) || (isEncodedDot(segment, 0) && segment[3] === '.') ? 2 : 0;
    case 6:
      return isEncodedDot(segment, 0) && isEncodedDot(segment, 3) ? 2 : 0;
    default:
      return 0;
  }
}

function isEncodedDot(s: string, at: number): boolean {
  return s[at] === '%' && s[at + 1] === '2' && (s[at + 2] === 'e' || s[at + 2] === 'E');
}
