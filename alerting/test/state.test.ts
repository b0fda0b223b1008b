import { describe, expect, it } from 'vitest';
import { decide, type Decision, type FiringState } from '../src/state.ts';
import { isDue } from '../src/evaluate.ts';

const t = { warning: 50, critical: 100 };
const base = { thresholds: t, nowMs: 1_000_000, hysteresis: 0.1, reminderMs: 3_600_000 };
const warning: FiringState = { severity: 'warning', lastNotifiedAtMs: 900_000 };
const critical: FiringState = { severity: 'critical', lastNotifiedAtMs: 900_000 };

describe('alert state machine', () => {
  it.each<[string, number | null, FiringState | null, Partial<Decision>]>([
    ['ok stays ok below warning', 49.9, null, { action: 'none', reason: 'below_threshold' }],
    ['ok stays ok without data', null, null, { action: 'none', reason: 'no_data' }],
    ['ok fires warning at the warning threshold', 50, null, { action: 'fire', severity: 'warning' }],
    ['ok fires critical straight away', 150, null, { action: 'fire', severity: 'critical', reason: 'above_critical' }],
    ['warning escalates to critical', 100, warning, { action: 'escalate', severity: 'critical' }],
    ['warning holds above warning', 70, warning, { action: 'hold', reason: 'still_firing' }],
    ['warning holds inside the hysteresis band (45 < 49 < 50)', 49, warning, { action: 'hold', reason: 'within_hysteresis' }],
    ['warning resolves below the band', 44.9, warning, { action: 'resolve', reason: 'below_resolve_threshold' }],
    ['critical does not step down to warning', 60, critical, { action: 'hold', reason: 'still_firing' }],
    ['critical does not re-notify while still critical', 500, critical, { action: 'hold', reason: 'still_firing' }],
    ['critical resolves below the warning band', 10, critical, { action: 'resolve' }],
    ['firing resolves when data stops', null, critical, { action: 'resolve', reason: 'no_data' }],
  ])('%s', (_name, value, current, expected) => {
    expect(decide({ ...base, value, current })).toMatchObject(expected);
  });

  it('reminds once the reminder interval has passed since the last notification, not before', () => {
    const current: FiringState = { severity: 'critical', lastNotifiedAtMs: 0 };
    expect(decide({ ...base, value: 500, current, nowMs: 3_599_999 }).action).toBe('hold');
    expect(decide({ ...base, value: 500, current, nowMs: 3_600_000 })).toEqual({ action: 'remind', reason: 'reminder_due' });
    expect(decide({ ...base, value: 500, current, nowMs: 99_999_999, reminderMs: 0 }).action).toBe('hold');
  });

  it('a value hovering on the threshold does not flap', () => {
    const values = [50.5, 49.5, 50.2, 48, 51, 46, 50];
    let current: FiringState | null = null;
    const actions: string[] = [];
    for (const value of values) {
      const d = decide({ ...base, value, current });
      actions.push(d.action);
      if (d.action === 'fire') current = { severity: d.severity, lastNotifiedAtMs: base.nowMs };
      if (d.action === 'resolve') current = null;
    }
    expect(actions).toEqual(['fire', 'hold', 'hold', 'hold', 'hold', 'hold', 'hold']);
  });

  it('a rule with only a critical threshold resolves below it minus the band', () => {
    const thresholds = { warning: null, critical: 10 };
    expect(decide({ ...base, thresholds, value: 10, current: null })).toMatchObject({ action: 'fire', severity: 'critical' });
    expect(decide({ ...base, thresholds, value: 9.5, current: critical }).action).toBe('hold');
    expect(decide({ ...base, thresholds, value: 8.9, current: critical }).action).toBe('resolve');
  });
});

describe('isDue', () => {
  it.each([
    ['interval at or below the tick: every tick', 15, 15_000, 1_000_007, true],
    ['longer interval: the tick that crosses a multiple', 60, 15_000, 120_005, true],
    ['longer interval: other ticks', 60, 15_000, 135_005, false],
  ])('%s', (_n, interval, tick, now, expected) => {
    expect(isDue({ evalIntervalSeconds: interval }, now, tick)).toBe(expected);
  });

  it('with the time since the last evaluation: a multiple crossed while a tick ran late is not missed', () => {
    // ticks of 15 s; the evaluation at 105 s overran and the next ran at 135 s: the multiple of
    // 60 s at 120 s lies in (105, 135], but not in (120, 135]
    expect(isDue({ evalIntervalSeconds: 60 }, 135_005, 15_000)).toBe(false);
    expect(isDue({ evalIntervalSeconds: 60 }, 135_005, 15_000, 30_000)).toBe(true);
    expect(isDue({ evalIntervalSeconds: 60 }, 150_005, 15_000, 15_000)).toBe(false); // the next one: not again
  });
});
