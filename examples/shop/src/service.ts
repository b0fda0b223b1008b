/**
 * What every shop service shares: flowscope set up from the environment (the collector at
 * OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318), a `ready <port>` line on stdout
 * once listening (the demo waits for it), and a SIGTERM/SIGINT that stops taking requests,
 * flushes the spans (acknowledged by the collector) and exits 0.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initFlowscope } from '@flowscope/instrumentation';
import type { FlowscopeHandle, Layer } from '@flowscope/instrumentation';

export function startFlowscope(serviceName: string, layer: Layer): FlowscopeHandle {
  return initFlowscope({ serviceName, layer, scheduledDelayMillis: 500, resourceAttributes: { 'deployment.environment.name': 'demo' } });
}

export async function listen(server: Server, flowscope: FlowscopeHandle, close: () => Promise<void> = () => Promise.resolve()): Promise<void> {
  const port = Number(process.env.PORT ?? '0');
  await new Promise<void>((resolve) => server.listen(port, process.env.HOST ?? '127.0.0.1', resolve));
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.closeIdleConnections();
    server.close();
    void (async () => {
      await close().catch(() => undefined);
      await flowscope.shutdown();
      process.exit(0);
    })();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
