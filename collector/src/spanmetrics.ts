import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { activeWorkflowsByType, type Database, type ErrorRecord, type SpanRecord } from '@flowscope/storage';

/**
 * The Prometheus series of the system this replaces, with the names its Grafana panels use.
 * Label values come from senders, so the number of workflow types is capped: past the cap new
 * types are reported as "other" rather than growing the series without bound.
 */
export class SpanPrometheusMetrics {
  private readonly responseTime: Histogram<'workflow_type' | 'layer'>;
  private readonly errorsTotal: Counter<'workflow_type' | 'layer' | 'error_type'>;
  private readonly types = new Set<string>();
  private readonly errorTypes = new Set<string>();

  constructor(
    registry: Registry,
    private readonly maxTypes: number,
    db: Database,
    cacheMs = 5000,
  ) {
    this.responseTime = new Histogram({
      name: 'debugging_response_time_seconds',
      help: 'Span durations by workflow type and layer (every span, before sampling)',
      labelNames: ['workflow_type', 'layer'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    });
    this.errorsTotal = new Counter({
      name: 'debugging_errors_total',
      help: 'Error spans by workflow type, layer and error type (every span, before sampling)',
      labelNames: ['workflow_type', 'layer', 'error_type'],
      registers: [registry],
    });
    let cached: { at: number; rows: { workflow_type: string; n: number }[] } | undefined;
    new Gauge({
      name: 'debugging_active_workflows_total',
      help: 'Workflows in progress, by workflow type (from the database, shared by all replicas)',
      labelNames: ['workflow_type'],
      registers: [registry],
      async collect() {
        if (!cached || Date.now() - cached.at > cacheMs) {
          try {
            const rows = await activeWorkflowsByType(db, 100_000);
            cached = { at: Date.now(), rows };
          } catch {
            return; // storage down: keep the last values rather than fail the scrape
          }
        }
        this.reset();
        for (const r of cached.rows) this.set({ workflow_type: r.workflow_type }, Number(r.n));
      },
    });
  }

  private label(set: Set<string>, value: string): string {
    if (set.has(value)) return value;
    if (set.size >= this.maxTypes) return 'other';
    set.add(value);
    return value;
  }

  observe(spans: readonly SpanRecord[], errors: readonly ErrorRecord[]): void {
    for (const s of spans) {
      this.responseTime.observe(
        { workflow_type: this.label(this.types, s.workflowType), layer: s.layer },
        Number(s.endUnixNano - s.startUnixNano) / 1e9,
      );
    }
    for (const e of errors) {
      if (e.seq !== 0) continue; // one per error span; exception events are detail
      this.errorsTotal.inc({
        workflow_type: this.label(this.types, e.workflowType),
        layer: e.layer,
        error_type: this.label(this.errorTypes, e.errorType),
      });
    }
  }
}
