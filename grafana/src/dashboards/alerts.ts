/**
 * "thresholds and alerts": each alert rule's value against its warning and critical lines (one
 * panel per rule), the alerts firing now, and what became of their emails (the outbox).
 */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../metrics.ts';
import {
  API, alertLink, apiList, flowscopeDashboard, flowscopeUrlVariable, labelVariable, prom, table, timeseries, withLinks, withThresholdLines,
} from '../panels.ts';

export const ALERTS_UID = 'flowscope-alerts';

export function alertsDashboard(): Dashboard {
  return flowscopeDashboard('thresholds and alerts', ALERTS_UID, 'Alert rules against their thresholds, firing alerts and the alert email outbox.', { from: 'now-6h' })
    .withVariable(labelVariable('rule', 'Rule', `label_values(${METRICS.ruleThreshold}, rule)`))
    .withVariable(flowscopeUrlVariable())

    .withRow(new RowBuilder('Rules'))
    .withPanel(
      withThresholdLines(
        timeseries(
          '$rule',
          "The rule's value per scope at each evaluation (in its metric's unit: ms for durations, % for error_pct), with its warning and critical thresholds.",
          'none',
          12,
        )
          .repeat('rule')
          .repeatDirection('h')
          .maxPerRow(2)
          .withTarget(prom(`max by (scope) (${METRICS.ruleValue}{rule=~"$rule"})`, '{{scope}}', 'A'))
          .withTarget(prom(`max by (level) (${METRICS.ruleThreshold}{rule=~"$rule"})`, '{{level}}', 'B')),
      ),
    )

    .withRow(new RowBuilder('Alerts'))
    .withPanel(
      withLinks(
        table('Firing alerts', 'GET /api/v1/debugging/alerts?state=firing, newest first. The id opens the alert in flowscope.', 24, 8).withTarget(
          apiList(`${API}/alerts`, [['state', 'firing'], ['limit', '100']], [
            ['id', 'Alert', 'number'],
            ['rule_name', 'Rule'],
            ['severity', 'Severity'],
            ['scope_key', 'Scope'],
            ['value', 'Value', 'number'],
            ['threshold', 'Threshold', 'number'],
            ['first_seen', 'Since', 'time'],
            ['notification_status', 'Notification'],
          ]),
        ),
        alertLink('Alert'),
      ),
    )
    .withPanel(
      timeseries('Alert decisions', 'What the rule evaluations decided (fire, escalate, resolve, remind, …), per second.', 'ops').withTarget(
        prom(`sum by (action) (rate(${METRICS.alertDecisions}[$__rate_interval]))`, '{{action}}'),
      ),
    )
    .withPanel(
      timeseries('Evaluations', 'Evaluation ticks per second by outcome (ok, error).', 'ops').withTarget(
        prom(`sum by (outcome) (rate(${METRICS.alertEvaluations}[$__rate_interval]))`, '{{outcome}}'),
      ),
    )

    .withRow(new RowBuilder('Email'))
    .withPanel(
      table('Email outbox', 'GET /api/v1/debugging/email-outbox, newest first: sent, pending, failed, or unsent when no SMTP server is configured.', 16, 8).withTarget(
        apiList(`${API}/email-outbox`, [['limit', '100']], [
          ['created_at', 'Created', 'time'],
          ['status', 'Status'],
          ['subject', 'Subject'],
          ['attempts', 'Attempts', 'number'],
          ['last_error', 'Last error'],
          ['sent_at', 'Sent', 'time'],
        ]),
      ),
    )
    .withPanel(
      timeseries('Email delivery', 'Delivery attempts per second by outcome.', 'ops', 8).withTarget(
        prom(`sum by (outcome) (rate(${METRICS.emailAttempts}[$__rate_interval]))`, '{{outcome}}'),
      ),
    )
    .build();
}
