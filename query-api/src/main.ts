import { Redis } from 'ioredis';
import { createLogger, loadConfigOrExit, loggingConfigShape, runMain, stopOnSignals } from '@flowscope/common';
import { openDatabaseAtStart, storageConfigShape, surviveLostConnections } from '@flowscope/storage';
import { queryApiConfigShape } from './config.ts';
import { buildQueryApi } from './app.ts';
import { ensureAdminToken } from './tokens.ts';

/** The standalone query-api process: parse the environment once, open storage, listen, close on signals. */
const shape = { ...storageConfigShape, ...loggingConfigShape, ...queryApiConfigShape };

async function main() {
  const config = loadConfigOrExit(shape, 'flowscope query-api');
  const logger = createLogger(config, 'query-api');
  surviveLostConnections(logger);
  const db = await openDatabaseAtStart(config, (r) => logger.warn(r, 'database unavailable at start-up, retrying'));
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: true }) : undefined;
  redis?.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  const app = await buildQueryApi({ db, config, logger, ...(redis ? { redis } : {}) });
  // As the all-in-one does: FLOWSCOPE_ADMIN_TOKEN is registered as an admin token; without it, a
  // fresh database gets one generated admin token, printed once. Replicas agree (advisory lock).
  await ensureAdminToken(db, logger, config.FLOWSCOPE_ADMIN_TOKEN);

  stopOnSignals(
    logger,
    async () => {
      await app.close();
      redis?.disconnect();
      await db.close();
    },
    15_000,
  );

  const address = await app.listen({ port: config.FLOWSCOPE_QUERY_PORT, host: config.FLOWSCOPE_QUERY_HOST });
  logger.info({ address, port: app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : undefined }, 'query-api listening');
}

runMain('flowscope query-api', main);
