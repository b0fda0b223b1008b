import { Redis } from 'ioredis';
import { createLogger, loadConfigOrExit, eventsChannel, loggingConfigShape, RedisEventBus } from '@flowscope/common';
import { openDatabase, storageConfigShape } from '@flowscope/storage';
import { buildCollector } from './app.ts';
import { collectorConfigShape } from './config.ts';

/** The collector process: parse the environment once, open storage, listen, stop on signals. */
async function main(): Promise<void> {
  const config = loadConfigOrExit({ ...loggingConfigShape, ...storageConfigShape, ...collectorConfigShape }, 'flowscope collector');
  const logger = createLogger(config, 'flowscope-collector');
  const db = await openDatabase(config);
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

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, flushing the writer');
    await collector.close();
    await events?.close();
    redis?.disconnect();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`flowscope collector failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
