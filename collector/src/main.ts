import { Redis } from 'ioredis';
import { createLogger, eventsChannel, loadConfigOrExit, loggingConfigShape, RedisEventBus, runMain, stopOnSignals } from '@flowscope/common';
import { openDatabaseAtStart, storageConfigShape, surviveLostConnections } from '@flowscope/storage';
import { buildCollector } from './app.ts';
import { collectorConfigProblems, collectorConfigShape } from './config.ts';

/** The collector process: parse the environment once, open storage, listen, stop on signals. */
async function main(): Promise<void> {
  const config = loadConfigOrExit({ ...loggingConfigShape, ...storageConfigShape, ...collectorConfigShape }, 'flowscope collector', process.env, collectorConfigProblems);
  const logger = createLogger(config, 'flowscope-collector');
  surviveLostConnections(logger);
  const db = await openDatabaseAtStart(config, (r) => logger.warn(r, 'database unavailable at start-up, retrying'));
  logger.info({ storage: db.kind }, 'storage ready');
  // Workflow lifecycle events reach every query-api replica's live stream through Redis.
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: true }) : undefined;
  redis?.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis (live events)'));
  const events = redis ? new RedisEventBus(redis, eventsChannel(config.FLOWSCOPE_REDIS_PREFIX)) : undefined;
  const collector = buildCollector({ db, config, logger, ...(events ? { events } : {}) });
  await collector.app.listen({ host: config.FLOWSCOPE_COLLECTOR_HOST, port: config.FLOWSCOPE_COLLECTOR_PORT });
  const address = collector.app.server.address();
  const grpcPort = await collector.listenGrpc({ host: config.FLOWSCOPE_COLLECTOR_HOST ?? '0.0.0.0', port: config.FLOWSCOPE_COLLECTOR_GRPC_PORT });
  logger.info({ grpcPort }, 'OTLP/gRPC receiver listening');
  logger.info({ port: typeof address === 'object' && address ? address.port : config.FLOWSCOPE_COLLECTOR_PORT }, 'collector listening');

  stopOnSignals(logger, async () => {
    await collector.close();
    await events?.close();
    redis?.disconnect();
    await db.close();
  });
}

runMain('flowscope collector', main);
