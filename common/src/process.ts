import type { Logger } from 'pino';

/**
 * For a process's main.ts: on SIGTERM or SIGINT (once, however often they arrive) runs `stop`
 * — stop receiving, flush, close pools — then exits 0; exits 1 if stopping fails or takes
 * longer than graceMs.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>, graceMs = 30_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing what was accepted');
    const force = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown did not finish in time, exiting');
      process.exit(1);
    }, graceMs);
    force.unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: String(err) }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * Runs a process's main; a failure to start is printed with its stack and exits 1. An error
 * marked `userFacing` (one that says what to do, such as a data directory in use) is printed
 * as its message alone.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const text = err instanceof Error ? ((err as { userFacing?: boolean }).userFacing ? err.message : err.stack) : String(err);
    process.stderr.write(`${name} failed to start: ${text}\n`);
    process.exit(1);
  });
}
