/** Issue 15: the dashboard's axis scale and dates, as pure functions (the browser test checks the page). */
import { describe, expect, it } from 'vitest';
import { date, dateTime, niceScale } from '../src/report/formats/html.js';

describe('niceScale', () => {
  it.each([
    [0.2576, 0.5],
    [0.0576, 0.1],
    [0.01, 0.01],
    [0.011, 0.02],
    [0.021, 0.025],
    [7, 10],
    [1, 1],
    [1234, 2000],
    [0, 1],
    [Number.NaN, 1],
  ])('%d → a top of %d, ticks at 0, half and the top', (max, top) => {
    const scale = niceScale(max);
    expect(scale.top).toBeCloseTo(top, 12);
    expect(scale.ticks).toEqual([0, scale.top / 2, scale.top]);
    if (Number.isFinite(max)) expect(scale.top).toBeGreaterThanOrEqual(max);
  });
});

describe('dates as people write them', () => {
  it('writes hours in UTC, named', () => {
    expect(dateTime('2026-11-28T14:00:00.000Z')).toBe('28 Nov 2026, 14:00 UTC');
    expect(dateTime('2027-01-05T09:30:00.000Z')).toBe('5 Jan 2027, 09:30 UTC');
  });
  it('writes days without a time, and leaves junk as it is', () => {
    expect(date('2027-03-01')).toBe('1 Mar 2027');
    expect(date('2026-11-28T23:59:59.000Z')).toBe('28 Nov 2026');
    expect(date('not a date')).toBe('not a date');
  });
});
