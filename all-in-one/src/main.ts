import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createLogger, loadConfigOrExit, loggingConfigShape, runMain, stopOnSignals } from '@flowscope/common';
import { openDatabaseAtStart, storageConfigShape, surviveLostConnections } from '@flowscope/storage';
import { buildCollector, collectorConfigProblems, collectorConfigShape } from '@flowscope/collector';
import { eventsChannel, LocalEventBus, RedisEventBus } from '@flowscope/common';
import { buildQueryApi, ensureAdminToken, queryApiConfigShape } from '@flowscope/query-api';
import { alertingConfigShape, startAlerting } from '@flowscope/alerting';

// Keys shared by several fragments (REDIS_URL, DEBUGGING_*) mean the same in each.
const shape = { ...loggingConfigShape, ...storageConfigShape, ...alertingConfigShape, ...queryApiConfigShape, ...collectorConfigShape };

/**
 * flowscope all-in-one: the collector, the query API and the alerting worker in one process,
 * on embedded PGlite when DATABASE_URL is unset and an in-process scheduler when REDIS_URL is
 * unset — so a first run needs nothing but Node.js.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(shape, 'flowscope', process.env, collectorConfigProblems);
  const logger = createLogger(config, 'flowscope');
  surviveLostConnections(logger);
  logger.info(
    {
      storage: config.DATABASE_URL ? 'postgresql' : `embedded PGlite in ${config.FLOWSCOPE_DATA_DIR}`,
      queues: config.REDIS_URL ? 'redis (BullMQ)' : 'in-process scheduler',
    },
    'starting flowscope all-in-one',
  );
  const db = await openDatabaseAtStart(config, (r) => logger.warn(r, 'database unavailable at start-up, retrying'));
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: true }) : undefined;
  redis?.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));

  // One bus for live events: the collector publishes workflow changes, the API streams them.
  const events = redis
    ? new RedisEventBus(redis, eventsChannel(config.FLOWSCOPE_REDIS_PREFIX), (err) => logger.warn({ err: String(err) }, 'live events'))
    : new LocalEventBus();
  const collector = buildCollector({ db, config, logger, events });
  // The collector serves its metrics on 4318; the API and the alerting worker share :8000/metrics.
  const registry = new Registry();
  // The System page reads the collector on its own port (known once it listens) and the
  // alerting worker from the shared registry.
  const collectorHttp: { url?: string } = {};
  const queryApi = await buildQueryApi({
    db, config, logger, events, registry, ...(redis ? { redis } : {}),
    system: { collectorUrl: () => collectorHttp.url, alertingInProcess: true },
  });
  await ensureAdminToken(db, logger, config.FLOWSCOPE_ADMIN_TOKEN);
  const alerting = await startAlerting({ db, config, logger, liveEvents: events, registry });

  const host = config.FLOWSCOPE_COLLECTOR_HOST ?? '0.0.0.0';
  await collector.app.listen({ host, port: config.FLOWSCOPE_COLLECTOR_PORT });
  const collectorPort = (collector.app.server.address() as { port: number }).port;
  collectorHttp.url = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${collectorPort}`;
  const grpcPort = await collector.listenGrpc({ host, port: config.FLOWSCOPE_COLLECTOR_GRPC_PORT });
  await queryApi.listen({ host: config.FLOWSCOPE_QUERY_HOST, port: config.FLOWSCOPE_QUERY_PORT });
  logger.info(
    {
      otlpHttp: `http://localhost:${config.FLOWSCOPE_COLLECTOR_PORT}/v1/traces`,
      otlpGrpc: `localhost:${grpcPort}`,
      api: `http://localhost:${config.FLOWSCOPE_QUERY_PORT}/api/v1/debugging`,
      jaeger: `http://localhost:${config.FLOWSCOPE_QUERY_PORT}/jaeger`,
      docs: `http://localhost:${config.FLOWSCOPE_QUERY_PORT}/docs`,
    },
    `flowscope is up; point OTEL_EXPORTER_OTLP_ENDPOINT at http://localhost:${config.FLOWSCOPE_COLLECTOR_PORT}`,
  );

  stopOnSignals(logger, async () => {
    await Promise.allSettled([collector.close(), queryApi.close()]);
    await alerting.close();
    await events.close();
    redis?.disconnect();
    await db.close();
  });
}

runMain('flowscope', main);
