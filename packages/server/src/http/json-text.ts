// One rule for reading a client's JSON, whichever way it comes. Fastify's parser refuses
// `__proto__` keys and `constructor.prototype` (its prototype-poisoning defaults, or what
// the host configured). HTTP bodies go through it; socket messages take the same parser,
// so a socket cannot store what HTTP refuses (Zod would drop such a key without a word).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidRequestError } from '../errors.js';

/** Fastify's default JSON body parser, with the app's prototype-poisoning settings. */
export function appJsonParser(app: FastifyInstance) {
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = app.initialConfig;
  return app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning);
}

/** Parses a JSON text; throws InvalidRequestError saying what is wrong with it. */
export type JsonTextParser = (text: string) => unknown;

/** A JsonTextParser by the app's rules (those of its HTTP bodies). */
export function appJsonTextParser(app: FastifyInstance): JsonTextParser {
  const parse = appJsonParser(app);
  return (text) => {
    let parsed: unknown;
    let failure: Error | null = null;
    // Fastify's parser answers through its callback before it returns.
    parse(undefined as unknown as FastifyRequest, text, (error, value) => {
      failure = error;
      parsed = value;
    });
    if (failure) throw new InvalidRequestError(reasonRefused(text), { cause: failure });
    return parsed;
  };
}

/** Why Fastify's parser refused `text` (its error says only "not valid JSON"); failures only. */
function reasonRefused(text: string): string {
  try {
    JSON.parse(text);
  } catch {
    return 'message is not valid JSON';
  }
  return 'message has a key named __proto__ (or constructor.prototype), refused as on HTTP';
}
