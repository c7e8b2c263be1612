// What to say when the browser refuses a request to the API: from another origin, a
// fetch the server does not allow through CORS fails with a bare TypeError ("Failed to
// fetch"), the same as a server that is down, while the console says CORS. The engine
// names both causes and, for a cross-origin URL, what the server must allow.

/** Headers a cross-origin API must allow (requests) and expose (responses) to the engine. */
export const CORS_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match'];
export const CORS_EXPOSE_HEADERS = ['ETag', 'Retry-After'];

/** The origin of `url`, or undefined when it is not absolute. */
function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * The detail of a failed `method url` from a page at `pageOrigin`: a TypeError from another
 * origin is reported as "blocked by CORS, or unreachable", with what the server must send.
 */
export function fetchFailureDetail(
  method: string,
  url: string,
  error: unknown,
  pageOrigin: string | undefined,
): string {
  const target = originOf(url);
  if (!(error instanceof TypeError) || !pageOrigin || !target || target === pageOrigin) {
    return `${method} failed`;
  }
  return (
    `${method} failed: the browser blocked the cross-origin request from ${pageOrigin} ` +
    `(CORS), or ${target} is unreachable. The API must answer with ` +
    `Access-Control-Allow-Origin: ${pageOrigin}, allow the headers ` +
    `${CORS_ALLOW_HEADERS.join(', ')} and expose ${CORS_EXPOSE_HEADERS.join(', ')}`
  );
}

/** The page's origin in a browser; undefined elsewhere. */
export function pageOrigin(): string | undefined {
  return typeof location === 'undefined' ? undefined : location.origin;
}
