// The alerting worker's public surface. The start-up wiring is in start.ts.
export { alertingConfigShape, alertingConfig, type AlertingConfig } from './config.ts';
export { decide, levelOf, resolveBelow, type Decision, type Severity, type Thresholds } from './state.ts';
export { renderAlertEmail, alertLinks, type AlertEmailInput, type RenderedEmail } from './render.ts';
export { seedRules, loadRules, configRules, loadRulesFile, parseMetric, DEFAULT_RULES_FILE, EACH, type AlertRule, type SeedRule } from './rules.ts';
export { computeValues, type ScopeValue } from './values.ts';
export { evaluateRules, isDue, type EvaluationResult, type RuleDecision } from './evaluate.ts';
export { deliverEmail, createMailer, messageIdOf, DatabaseUnavailableError, type Mailer, type DeliveryOutcome } from './email.ts';
export { runEnsurePartitions, runRetention, runWorkflowTimeouts, failAbandonedEmails } from './maintenance.ts';
export { startBullmqScheduler, startInProcessScheduler, type Scheduler, type JobFunctions } from './scheduler.ts';
export {
  startAlerting, jobFailureKind, type StartAlertingOptions, type AlertingEvents, type AlertingHandle, type JobFailureKind,
} from './start.ts';
