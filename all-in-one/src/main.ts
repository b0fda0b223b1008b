import { ConfigError, createLogger, loggingConfigShape, parseConfig } from '@flowscope/common';
import { openDatabase, storageConfigShape } from '@flowscope/storage';
import { buildCollector, collectorConfigShape } from '@flowscope/collector';

/**
 * flowscope all-in-one: the collector, the query API and the alerting worker in one process,
 * on embedded PGlite when DATABASE_URL is unset and an in-process scheduler when REDIS_URL is
 * unset — so a first run needs nothing but Node.js.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig({ ...loggingConfigShape, ...storageConfigShape, ...collectorConfigShape }, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`flowscope: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config, 'flowscope');
  logger.info(
    { storage: config.DATABASE_URL ? 'postgresql' : `embedded PGlite in ${config.FLOWSCOPE_DATA_DIR}` },
    'starting flowscope all-in-one',
  );
  const db = await openDatabase(config);
  const collector = buildCollector({ db, config, logger });
  await collector.app.listen({ host: config.FLOWSCOPE_COLLECTOR_HOST, port: config.FLOWSCOPE_COLLECTOR_PORT });
  logger.info(
    { otlpHttp: `http://localhost:${config.FLOWSCOPE_COLLECTOR_PORT}/v1/traces` },
    `collector listening; point OTEL_EXPORTER_OTLP_ENDPOINT at http://localhost:${config.FLOWSCOPE_COLLECTOR_PORT}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await collector.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`flowscope failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
