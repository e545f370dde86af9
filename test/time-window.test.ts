import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../lib/errors';
import { asOfProblem, asOfSchema, describeWindow, inWindow, resolveWindow, timestampOf } from '../lib/time-window';

const ms = (iso: string) => Date.parse(iso);

describe('resolveWindow', () => {
  it('ends at asOf and reaches back `last`, in ISO-8601 UTC', () => {
    expect(resolveWindow({ column: 'labelled_at', last: '90d' }, '2026-10-01T00:00:00.000Z')).toEqual({
      column: 'labelled_at',
      from: '2026-07-03T00:00:00.000Z',
      to: '2026-10-01T00:00:00.000Z',
    });
  });

  it('has no lower bound without `last`', () => {
    expect(resolveWindow({ column: 'labelled_at' }, '2026-10-01T12:30:00Z')).toEqual({
      column: 'labelled_at',
      from: null,
      to: '2026-10-01T12:30:00.000Z',
    });
  });

  it('normalises an asOf given as a date or with an offset', () => {
    expect(resolveWindow({ column: 't', last: '1h' }, '2026-10-01').to).toBe('2026-10-01T00:00:00.000Z');
    expect(resolveWindow({ column: 't', last: '1h' }, '2026-10-01T02:00:00+02:00')).toMatchObject({
      from: '2026-09-30T23:00:00.000Z',
      to: '2026-10-01T00:00:00.000Z',
    });
  });

  it('refuses an asOf that is not a time', () => {
    expect(() => resolveWindow({ column: 't' }, 'yesterday')).toThrow(InvalidInputError);
    expect(() => resolveWindow({ column: 't' }, '2026-02-30')).toThrow(/not an ISO-8601/);
  });
});

describe('timestampOf', () => {
  it('reads a date as midnight UTC', () => {
    expect(timestampOf('2026-10-01')).toBe(ms('2026-10-01T00:00:00Z'));
  });

  it('reads a time without a zone as UTC (PostgreSQL timestamp), with T or a space', () => {
    expect(timestampOf('2026-10-01T12:30:00')).toBe(ms('2026-10-01T12:30:00Z'));
    expect(timestampOf('2026-10-01 12:30:00')).toBe(ms('2026-10-01T12:30:00Z'));
    expect(timestampOf('2026-10-01T12:30')).toBe(ms('2026-10-01T12:30:00Z'));
  });

  it('reads Z and offsets in every ISO-8601 form (PostgreSQL timestamptz is rendered with Z)', () => {
    expect(timestampOf('2026-10-01T12:30:00Z')).toBe(ms('2026-10-01T12:30:00Z'));
    expect(timestampOf('2026-10-01T12:30:00.678Z')).toBe(ms('2026-10-01T12:30:00.678Z'));
    expect(timestampOf('2026-10-01T14:30:00+02:00')).toBe(ms('2026-10-01T12:30:00Z'));
    expect(timestampOf('2026-10-01T14:30:00+0200')).toBe(ms('2026-10-01T12:30:00Z'));
    expect(timestampOf('2026-10-01 14:30:00+02')).toBe(ms('2026-10-01T12:30:00Z'));
    expect(timestampOf('2026-10-01T07:00:00-05:30')).toBe(ms('2026-10-01T12:30:00Z'));
    expect(timestampOf('2026-10-01t12:30:00z')).toBe(ms('2026-10-01T12:30:00Z'));
  });

  it('drops digits past the millisecond instead of rounding (PostgreSQL prints microseconds)', () => {
    expect(timestampOf('2026-10-01T12:30:00.123999Z')).toBe(ms('2026-10-01T12:30:00.123Z'));
    expect(timestampOf('2026-10-01T12:30:00.5')).toBe(ms('2026-10-01T12:30:00.500Z'));
  });

  it('reads epoch seconds (9-11 digits) and milliseconds (12-14 digits)', () => {
    expect(timestampOf('1790812800')).toBe(ms('2026-10-01T00:00:00Z'));
    expect(timestampOf('1790812800.25')).toBe(ms('2026-10-01T00:00:00.250Z'));
    expect(timestampOf('1790812800000')).toBe(ms('2026-10-01T00:00:00Z'));
  });

  it('does not take other numbers for timestamps: a year, a compact date, a negative or short number', () => {
    for (const cell of ['2026', '20261001', '-1790812800', '12345', '1.5e9', '123456789012345']) expect(timestampOf(cell), cell).toBeNull();
  });

  it('is null for a missing cell and for text that is not a timestamp', () => {
    for (const cell of [
      null,
      '',
      '   ',
      'yesterday',
      '2026-13-01',
      '2026-02-29',
      '2026-04-31',
      '2026-10-01T24:00:00',
      '2026-10-01T12:60',
    ]) {
      expect(timestampOf(cell), String(cell)).toBeNull();
    }
    expect(timestampOf('2026-10-01T12:00:00+24:00')).toBeNull();
    expect(timestampOf('2026-10-01Z')).toBeNull();
  });

  it('reads 29 February of leap years only, and years before 100 as they are', () => {
    expect(timestampOf('2028-02-29')).toBe(ms('2028-02-29T00:00:00Z'));
    expect(timestampOf('2000-02-29')).toBe(ms('2000-02-29T00:00:00Z'));
    expect(timestampOf('1900-02-29')).toBeNull();
    expect(new Date(timestampOf('0050-06-01')!).getUTCFullYear()).toBe(50);
  });

  it('trims spaces around the cell', () => {
    expect(timestampOf(' 2026-10-01 ')).toBe(ms('2026-10-01T00:00:00Z'));
  });

  it("reads PostgreSQL's infinity and -infinity as beyond every bound", () => {
    expect(timestampOf('infinity')).toBe(Infinity);
    expect(timestampOf('-infinity')).toBe(-Infinity);
  });
});

describe('inWindow', () => {
  const window = resolveWindow({ column: 'labelled_at', last: '90d' }, '2026-10-01');

  it('includes `from` and excludes `to`', () => {
    expect(inWindow(ms(window.from!), window)).toBe(true);
    expect(inWindow(ms(window.from!) - 1, window)).toBe(false);
    expect(inWindow(ms(window.to) - 1, window)).toBe(true);
    expect(inWindow(ms(window.to), window)).toBe(false);
  });

  it('puts a missing timestamp in no window', () => {
    expect(inWindow(null, window)).toBe(false);
    expect(inWindow(NaN, window)).toBe(false);
  });

  it('without `last`, takes everything before asOf (even -infinity) and nothing after (not infinity)', () => {
    const open = resolveWindow({ column: 'labelled_at' }, '2026-10-01');
    expect(inWindow(timestampOf('1970-01-01'), open)).toBe(true);
    expect(inWindow(-Infinity, open)).toBe(true);
    expect(inWindow(Infinity, open)).toBe(false);
    expect(inWindow(-Infinity, window)).toBe(false);
  });

  it('reads the bounds of a window anew when they change', () => {
    const w = { column: 't', from: null, to: '2026-10-01T00:00:00.000Z' };
    expect(inWindow(ms('2026-09-01T00:00:00Z'), w)).toBe(true);
    w.to = '2026-08-01T00:00:00.000Z';
    expect(inWindow(ms('2026-09-01T00:00:00Z'), w)).toBe(false);
  });

  it('selects the same rows for the same asOf, whenever it is asked', () => {
    const cells = ['2026-06-30T23:59:59Z', '2026-07-03', '2026-09-30 23:59:59', '2026-10-01T00:00:00Z', '', 'n/a', '1790812799'];
    const select = () => cells.filter((c) => inWindow(timestampOf(c), resolveWindow({ column: 't', last: '90d' }, '2026-10-01')));
    expect(select()).toEqual(['2026-07-03', '2026-09-30 23:59:59', '1790812799']);
    expect(select()).toEqual(select());
  });
});

describe('describeWindow', () => {
  it('says which rows a run reads', () => {
    expect(describeWindow(resolveWindow({ column: 'labelled_at', last: '1d' }, '2026-10-01'))).toBe(
      'rows with labelled_at in [2026-09-30T00:00:00.000Z, 2026-10-01T00:00:00.000Z)',
    );
    expect(describeWindow(resolveWindow({ column: 'labelled_at' }, '2026-10-01'))).toBe(
      'rows with labelled_at before 2026-10-01T00:00:00.000Z',
    );
  });
});

describe('asOfSchema', () => {
  const now = ms('2026-11-15T12:00:00Z');
  const schema = asOfSchema(() => now);
  const issue = (value: unknown) => {
    const parsed = schema.safeParse(value);
    expect(parsed.success).toBe(false);
    return parsed.error!.issues.map((i) => i.message).join('; ');
  };

  it('takes a date (midnight UTC) or a time with its zone, and normalises it to ISO-8601 UTC', () => {
    expect(schema.parse('2026-10-01')).toBe('2026-10-01T00:00:00.000Z');
    expect(schema.parse('2026-10-01T12:00:00Z')).toBe('2026-10-01T12:00:00.000Z');
    expect(schema.parse('2026-10-01T14:00:00+02:00')).toBe('2026-10-01T12:00:00.000Z');
    expect(schema.parse(' 2026-10-01T12:00Z ')).toBe('2026-10-01T12:00:00.000Z');
  });

  it('refuses garbage, naming the forms it takes', () => {
    for (const bad of ['yesterday', '2026/10/01', '1790812800', '2026-02-30', '', '2026-10-01T25:00:00Z'])
      expect(issue(bad), bad).toMatch(/expected a date \(2026-10-01, midnight UTC\) or an ISO-8601 time with its zone/);
    expect(issue(20261001)).toMatch(/expected a date/);
  });

  it('refuses a time without a zone: it is ambiguous', () => {
    expect(issue('2026-10-01T12:00:00')).toMatch(/with its zone/);
  });

  it('refuses a time after now, saying both', () => {
    expect(issue('2026-11-16')).toBe(
      '2026-11-16T00:00:00.000Z is in the future (now: 2026-11-15T12:00:00.000Z): a run reads data as it was at a time that has passed',
    );
    expect(issue('2026-11-15T12:00:00.001Z')).toMatch(/in the future/);
    expect(schema.parse('2026-11-15T12:00:00Z')).toBe('2026-11-15T12:00:00.000Z');
  });

  it('reads the clock when a value is checked, not when the schema is made', () => {
    let clock = ms('2026-01-01T00:00:00Z');
    const live = asOfSchema(() => clock);
    expect(live.safeParse('2026-06-01').success).toBe(false);
    clock = ms('2026-07-01T00:00:00Z');
    expect(live.safeParse('2026-06-01').success).toBe(true);
  });
});

describe('asOfProblem', () => {
  it('refuses an asOf for a source without a window, saying how to add one', () => {
    expect(asOfProblem('churn', undefined)).toMatch(/pipeline churn has no source\.window.*window: \{ column/);
    expect(asOfProblem('churn', { column: 'labelled_at' })).toBeNull();
  });
});
