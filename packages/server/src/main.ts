// `npm start` / `node packages/server/dist/main.js`: configuration from the environment,
// the built web app at `/` when there is one, graceful shutdown on SIGTERM and SIGINT.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.js';
import { startServer } from './server.js';

// Resolved from this file (src/ or dist/ alike), not from the working directory.
const webDist = fileURLToPath(new URL('../../../apps/web/dist/', import.meta.url));
const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(1);
  }
  const staticDir = existsSync(join(webDist, 'index.html')) ? webDist : undefined;
  const server = await startServer({ ...config, ...(staticDir ? { staticDir } : {}) });
  const log = server.app.log;
  log.info(
    { staticDir: staticDir ?? null },
    staticDir ? 'serving the web app at /' : 'apps/web/dist not built: serving the API only',
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  // An option startServer refused (OptionError is a ConfigError): its name and the fix.
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
