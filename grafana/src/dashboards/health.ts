/**
 * "flowscope health": flowscope itself, per process — spans received, stored, sampled out and
 * refused, write latency, queue depths (writer, held spans, alerting jobs), API traffic.
 */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../metrics.ts';
import { flowscopeDashboard, prom, stat, timeseries } from '../panels.ts';

export const HEALTH_UID = 'flowscope-health';

const rate = (metric: string, by: string) => `sum by (${by}) (rate(${metric}[$__rate_interval]))`;

export function healthDashboard(): Dashboard {
  return flowscopeDashboard('flowscope health', HEALTH_UID, 'flowscope itself, per process: ingest, sampling, refusals, write latency, queues, API traffic.')

    .withRow(new RowBuilder('Processes'))
    .withPanel(stat('Targets up', 'flowscope scrape targets that answer.', 'short', 'sum(up{job=~"flowscope-.*"})'))
    .withPanel(stat('Storage reachable', 'Collectors whose last write or probe reached PostgreSQL (1 each).', 'short', `sum(${METRICS.storageUp})`))
    .withPanel(stat('Spans received per second', 'All collectors.', 'reqps', `sum(rate(${METRICS.spansReceived}[$__rate_interval]))`))
    .withPanel(stat('Spans refused per second', 'All collectors, every reason.', 'reqps', `sum(rate(${METRICS.spansRefused}[$__rate_interval])) or vector(0)`))
    .withPanel(timeseries('Up by process', 'Each flowscope scrape target: 1 up, 0 down.', 'short', 24).withTarget(prom('max by (job, instance) (up{job=~"flowscope-.*"})', '{{job}} {{instance}}')))

    .withRow(new RowBuilder('Ingest'))
    .withPanel(
      timeseries('Spans received, accepted and stored', 'Per collector instance, spans per second.', 'reqps')
        .withTarget(prom(rate(METRICS.spansReceived, 'instance'), 'received {{instance}}', 'A'))
        .withTarget(prom(rate(METRICS.spansAccepted, 'instance'), 'accepted {{instance}}', 'B'))
        .withTarget(prom(rate(METRICS.spansStored, 'instance'), 'stored {{instance}}', 'C')),
    )
    .withPanel(
      timeseries('Sampling', 'Spans per second by sampling decision reason (error, slow, rate, decided, held), and spans sampled out (expired, evicted).', 'reqps')
        .withTarget(prom(rate(METRICS.samplingDecisions, 'reason'), 'kept: {{reason}}', 'A'))
        .withTarget(prom(rate(METRICS.spansSampledOut, 'why'), 'sampled out: {{why}}', 'B')),
    )
    .withPanel(
      timeseries('Spans refused by reason', 'Invalid spans, and backpressure (queue_full, storage_unavailable, memory_limit, …), per collector instance.', 'reqps').withTarget(
        prom(rate(METRICS.spansRefused, 'instance, reason'), '{{reason}} {{instance}}'),
      ),
    )
    .withPanel(
      timeseries('Export requests by status', 'OTLP export requests per second by transport and response code.', 'reqps').withTarget(
        prom(rate(METRICS.exportRequests, 'transport, code'), '{{transport}} {{code}}'),
      ),
    )

    .withRow(new RowBuilder('Storage'))
    .withPanel(
      timeseries('Write latency', 'Time to commit one group-commit batch, per collector instance.', 's')
        .withTarget(prom(`histogram_quantile(0.5, sum by (le, instance) (rate(${METRICS.writeDuration}_bucket[$__rate_interval])))`, 'p50 {{instance}}', 'A'))
        .withTarget(prom(`histogram_quantile(0.99, sum by (le, instance) (rate(${METRICS.writeDuration}_bucket[$__rate_interval])))`, 'p99 {{instance}}', 'B')),
    )
    .withPanel(
      timeseries('Collector queues', 'Spans waiting for the writer and spans held for a sampling decision, per collector instance.', 'short')
        .withTarget(prom(`max by (instance) (${METRICS.writerQueue})`, 'writer queue {{instance}}', 'A'))
        .withTarget(prom(`max by (instance) (${METRICS.spansHeld})`, 'held {{instance}}', 'B')),
    )
    .withPanel(
      timeseries('Request bodies in memory', 'Bytes of OTLP request bodies held in memory, per collector instance.', 'bytes').withTarget(
        prom(`max by (instance) (${METRICS.inflightBytes})`, '{{instance}}'),
      ),
    )
    .withPanel(
      timeseries('Alerting queues', 'Jobs of the alerting worker by queue and state (waiting, active, delayed, failed).', 'short').withTarget(
        prom(`max by (queue, state) (${METRICS.queueJobs})`, '{{queue}} {{state}}'),
      ),
    )

    .withRow(new RowBuilder('Query API'))
    .withPanel(
      timeseries('API requests by status', 'Query API requests per second by response status, per instance.', 'reqps', 24).withTarget(
        prom(rate(METRICS.queryRequests, 'instance, status'), '{{status}} {{instance}}'),
      ),
    )
    .build();
}
