// The built web app at `/`, through `@fastify/static`: an optional dependency (it needs a
// newer Node than the API, and only a server of the page wants it), loaded only when a
// page is to be served. Missing, it is named in the error, with the command that adds it.
import { statSync } from 'node:fs';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { OptionError } from '../errors.js';

export const STATIC_PACKAGE = '@fastify/static';

/** What `import('@fastify/static')` gives, reduced to what is used here. */
type StaticModule = { default: FastifyPluginAsync<{ root: string; prefix: string }> };

/** The optional package, or an OptionError naming it (and `staticDir`) when it is missing. */
export async function loadStaticPlugin(
  load: () => Promise<unknown> = () => import('@fastify/static'),
): Promise<StaticModule['default']> {
  try {
    return ((await load()) as StaticModule).default;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new OptionError(
        'staticDir',
        `serves the page through the optional package ${STATIC_PACKAGE}, which is not installed: run \`npm install ${STATIC_PACKAGE}\` (or leave staticDir unset to serve the API only)`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Serves `staticDir` at `/` (root level: the not-found handler sends its index.html). */
export function registerStaticPage(
  app: FastifyInstance,
  staticDir: string,
  load?: () => Promise<unknown>,
): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(staticDir).isDirectory();
  } catch {
    // Reported below.
  }
  if (!isDirectory) {
    throw new OptionError('staticDir', `must be a folder of a built web app (got "${staticDir}")`);
  }
  app.register(
    fp(async (root) => {
      await root.register(await loadStaticPlugin(load), { root: staticDir, prefix: '/' });
    }),
  );
}
