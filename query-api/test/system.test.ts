import { describe, expect, it } from 'vitest';
import { displayUrl, ownSamples, parsePrometheusText } from '../src/system.ts';

describe('parsePrometheusText', () => {
  const text = `# HELP flowscope_alerting_queue_jobs jobs
# TYPE flowscope_alerting_queue_jobs gauge
flowscope_alerting_queue_jobs{queue="email",state="waiting"} 3
flowscope_storage_up 1
flowscope_write_duration_seconds_bucket{le="0.001"} 4
weird{a="x\\"y\\\\z",b="line\\nbreak"} 2.5
flowscope_inf +Inf
flowscope_nan NaN
`;
  it('reads names, labels (unescaped) and values; leaves out what JSON cannot carry', () => {
    const s = parsePrometheusText(text);
    expect(s).toEqual([
      { name: 'flowscope_alerting_queue_jobs', labels: { queue: 'email', state: 'waiting' }, value: 3 },
      { name: 'flowscope_storage_up', labels: {}, value: 1 },
      { name: 'flowscope_write_duration_seconds_bucket', labels: { le: '0.001' }, value: 4 },
      { name: 'weird', labels: { a: 'x"y\\z', b: 'line\nbreak' }, value: 2.5 },
    ]);
    expect(ownSamples(s).map((x) => x.name)).toEqual(['flowscope_alerting_queue_jobs', 'flowscope_storage_up']);
  });
  it('shows a URL without its credentials', () => {
    expect(displayUrl('http://ops:s3cret@collector:4318/')).toBe('http://collector:4318');
  });
});
