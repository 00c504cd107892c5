import { describe, expect, it } from 'vitest';
import { duration, int, isJsonMedia, money, ms, prettyJson, span, time, usd } from './format';

describe('money', () => {
  it('formats like the CLI', () => {
    expect(usd(0.004576050000000001)).toBe('$0.0046');
    expect(usd(0.24542395)).toBe('$0.25');
    expect(usd(12.5)).toBe('$12.50');
    expect(usd(0)).toBe('$0.00');
    expect(usd(0.01)).toBe('$0.01');
  });
  it('keeps tiny amounts visible', () => {
    expect(usd(0.000012)).toBe('$0.000012');
    expect(usd(0.00005)).toBe('$0.0001');
  });
  it('says unknown, never $0, for unpriced cost', () => {
    expect(money(0, false)).toBe('unknown');
    expect(money(0.0046, false)).toBe('$0.0046 + unknown');
    expect(money(null)).toBe('unknown');
    expect(money(0.5, true)).toBe('$0.50');
  });
});

describe('duration', () => {
  it('picks a unit', () => {
    expect(duration(0.1206)).toBe('121 ms');
    expect(duration(4.23)).toBe('4.2 s');
    expect(duration(42.4)).toBe('42 s');
    expect(duration(185)).toBe('3m 05s');
    expect(duration(3720)).toBe('1h 02m');
    expect(duration(90000)).toBe('1d 01h');
    expect(duration(-1)).toBe('–');
  });
  it('spans count an unfinished end up to now', () => {
    expect(span(100, 101.5)).toBe('1.5 s');
    expect(span(100, 0, 130)).toBe('30 s');
    expect(span(0, 5)).toBe('–');
  });
  it('formats milliseconds', () => {
    expect(ms(412.4)).toBe('412 ms');
    expect(ms(2500)).toBe('2.5 s');
    expect(ms(null)).toBe('–');
  });
});

describe('others', () => {
  it('int groups thousands', () => expect(int(1234567)).toBe('1,234,567'));
  it('time is local and zero-padded', () => {
    const t = new Date(2026, 0, 2, 3, 4, 5).getTime() / 1000;
    expect(time(t)).toBe('2026-01-02 03:04:05');
    expect(time(0)).toBe('–');
  });
  it('prettyJson indents JSON and leaves text alone', () => {
    expect(prettyJson('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(prettyJson('# Title\nbody')).toBe('# Title\nbody');
    expect(prettyJson('{not json')).toBe('{not json');
  });
  it('isJsonMedia', () => {
    expect(isJsonMedia('application/json')).toBe(true);
    expect(isJsonMedia('application/ld+json; charset=utf-8')).toBe(true);
    expect(isJsonMedia('text/markdown')).toBe(false);
    expect(isJsonMedia('application/jsonl')).toBe(false);
  });
});
