// Protective headers on the page and the API (helmet's): no MIME sniffing, no framing, no
// referrer leaving the origin, and a CSP the built dashboard runs under (Vite's output is
// external module scripts and stylesheets; React sets styles through the CSSOM, which
// style-src does not restrict; the socket is same-origin).
//
// The headers are computed once, by running helmet's own middleware against a recording
// response, and set by one synchronous hook. @fastify/helmet runs helmet(config) anew on
// every request (its two onRequest hooks re-parse the CSP directives each time): measured
// on the HTTP save bench at ~5 % of the server's CPU per save (parseDirectives, dashify,
// setHeader), for headers that never change.
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

export const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
} as const;

export const SECURITY_HEADER_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: CONTENT_SECURITY_POLICY.useDefaults,
    directives: Object.fromEntries(
      Object.entries(CONTENT_SECURITY_POLICY.directives).map(([name, values]) => [
        name,
        [...values],
      ]),
    ),
  },
  referrerPolicy: { policy: 'no-referrer' },
  frameguard: { action: 'deny' },
};

/** The headers helmet sets for `options` (lower-case names), computed once. */
export function securityHeaders(options: HelmetOptions = SECURITY_HEADER_OPTIONS) {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  // helmet's middleware is synchronous for static options; it reports errors to `next`.
  helmet(options)(
    {} as Parameters<ReturnType<typeof helmet>>[0],
    recorder as unknown as Parameters<ReturnType<typeof helmet>>[1],
    (error?: unknown) => {
      failure = error;
    },
  );
  if (failure) throw failure;
  return Object.freeze(headers);
}

/** Sets the headers on every reply of `app` (a root hook: the page, the API and probes). */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const headers = securityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}
