import { Redis } from 'ioredis';
import { createLogger, loadConfigOrExit, loggingConfigShape } from '@flowscope/common';
import { openDatabase, storageConfigShape } from '@flowscope/storage';
import { queryApiConfigShape } from './config.ts';
import { buildQueryApi } from './app.ts';

/** The standalone query-api process: parse the environment once, open storage, listen, close on signals. */
const shape = { ...storageConfigShape, ...loggingConfigShape, ...queryApiConfigShape };

async function main() {
  const config = loadConfigOrExit(shape, 'flowscope query-api');
  const logger = createLogger(config, 'query-api');
  const db = await openDatabase(config);
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: true }) : undefined;
  redis?.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  const app = await buildQueryApi({ db, config, logger, ...(redis ? { redis } : {}) });

  let closing: Promise<void> | undefined;
  const shutdown = (signal: string) => {
    closing ??= (async () => {
      logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 15_000);
      force.unref();
      try {
        await app.close();
        redis?.disconnect();
        await db.close();
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
        process.exitCode = 1;
      }
    })();
    return closing;
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const address = await app.listen({ port: config.FLOWSCOPE_QUERY_PORT, host: config.FLOWSCOPE_QUERY_HOST ?? '0.0.0.0' });
  logger.info({ address, port: app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : undefined }, 'query-api listening');
}

main().catch((err: unknown) => {
  process.stderr.write(`query-api failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
