import { expect, it } from 'vitest';
import type { Bucket } from '../api/types';
import { dayKey, fillDays } from './days';

const b = (key: string, cost_usd: number) => ({ key, cost_usd, calls: 1 }) as Bucket;
const at = (y: number, m: number, d: number, h = 10) => new Date(y, m - 1, d, h).getTime() / 1000;

it('fills the quiet days of the window', () => {
  const out = fillDays([b('2026-12-02', 0.5)], at(2026, 11, 29), at(2026, 12, 3));
  expect(out.map((x) => x.day)).toEqual(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03']);
  expect(out.map((x) => x.cost)).toEqual([0, 0, 0, 0.5, 0]);
});

it('keeps days outside the window and caps the length', () => {
  expect(fillDays([b('2020-01-01', 1)], at(2026, 12, 3), at(2026, 12, 3)).map((x) => x.day)).toEqual(['2020-01-01', '2026-12-03']);
  expect(fillDays([], 0, at(2026, 12, 3), 30)).toHaveLength(31);
  expect(dayKey(at(2026, 3, 9))).toBe('2026-03-09');
});
