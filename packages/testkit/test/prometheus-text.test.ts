import { describe, expect, test } from 'vitest';
import { parsePrometheusText, samplesOf, valueOf } from '../src/prometheus-text.js';

describe('parsePrometheusText', () => {
  test('reads samples, escaped label values, infinities and timestamps; skips comments', () => {
    const text = [
      '# HELP req Requests.',
      '# TYPE req histogram',
      'req_bucket{route="a \\"b\\" \\\\ c\\nd",le="+Inf"} 3',
      'req_sum{route="x"} 0.25 1700000000000',
      'up 1',
      'gauge{} -Inf',
      '',
    ].join('\n');
    const samples = parsePrometheusText(text);
    expect(samples).toEqual([
      { name: 'req_bucket', labels: { route: 'a "b" \\ c\nd', le: '+Inf' }, value: 3 },
      { name: 'req_sum', labels: { route: 'x' }, value: 0.25 },
      { name: 'up', labels: {}, value: 1 },
      { name: 'gauge', labels: {}, value: -Infinity },
    ]);
    expect(valueOf(samples, 'up')).toBe(1);
    expect(valueOf(samples, 'req_sum', { route: 'y' })).toBeUndefined();
    expect(samplesOf(samples, 'req_bucket', { le: '+Inf' })).toHaveLength(1);
  });

  test('refuses what is not the text format', () => {
    expect(() => parsePrometheusText('{"json": true}')).toThrow(/not a sample line/);
    expect(() => parsePrometheusText('x{a=b} 1')).toThrow(/unreadable labels/);
  });
});
