/**
 * The standalone alerting worker: parses the environment once, opens the database, starts the
 * alerting jobs and (unless FLOWSCOPE_ALERTING_METRICS_PORT=0) serves /health, /ready and
 * /metrics. SIGTERM/SIGINT: running jobs finish, then connections close.
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { createLogger, eventsChannel, loadConfigOrExit, loggingConfigShape, RedisEventBus, registerOpsRoutes, runMain, stopOnSignals } from '@flowscope/common';
import { openDatabaseAtStart, storageConfigShape, surviveLostConnections } from '@flowscope/storage';
import { alertingConfigShape } from './config.ts';
import { startAlerting } from './start.ts';

const shape = { ...storageConfigShape, ...loggingConfigShape, ...alertingConfigShape };

async function main(): Promise<void> {
  const config = loadConfigOrExit(shape, 'flowscope alerting');
  const logger = createLogger(config, 'flowscope-alerting');
  surviveLostConnections(logger);
  if (!config.REDIS_URL) logger.warn('REDIS_URL is unset: jobs run on the in-process scheduler (meant for the all-in-one only)');
  const db = await openDatabaseAtStart(config, (r) => logger.warn(r, 'database unavailable at start-up, retrying'));
  // Alert and time-out events reach every query-api replica's live stream through Redis.
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: true }) : undefined;
  redis?.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis (live events)'));
  const liveEvents = redis ? new RedisEventBus(redis, eventsChannel(config.FLOWSCOPE_REDIS_PREFIX)) : undefined;
  const alerting = await startAlerting({ db, config, logger, ...(liveEvents ? { liveEvents } : {}) });

  const app = config.FLOWSCOPE_ALERTING_METRICS_PORT > 0 ? Fastify({ logger: false }) : undefined;
  if (app) {
    registerOpsRoutes(app, { registry: alerting.registry, checks: alerting.checks });
    await app.listen({ host: '0.0.0.0', port: config.FLOWSCOPE_ALERTING_METRICS_PORT });
    logger.info({ port: config.FLOWSCOPE_ALERTING_METRICS_PORT }, 'serving /health, /ready and /metrics');
  }

  // The in-process scheduler's timers are unref'd (they must not hold a test process open), so
  // without Redis or a metrics port nothing else may hold the loop once the database drops its
  // connections (a PostgreSQL restart): the worker would exit 0. It runs until told to stop.
  const keepAlive = setInterval(() => {}, 3_600_000);
  stopOnSignals(logger, async () => {
    clearInterval(keepAlive);
    await app?.close();
    await alerting.close();
    await liveEvents?.close();
    redis?.disconnect();
    await db.close();
  });
}

runMain('flowscope alerting', main);
