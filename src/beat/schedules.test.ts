import { CrontabParseError, parseCronField } from './crontab-parser';
import { crontab, every } from './schedules';

const at = (iso: string): Date => new Date(iso);

describe('crontab fields as Celery parses them', () => {
  it.each([
    ['*/15', 60, 0, [0, 15, 30, 45]],
    ['1-5', 7, 0, [1, 2, 3, 4, 5]],
    ['mon-fri', 7, 0, [1, 2, 3, 4, 5]],
    ['sat-mon', 7, 0, [6, 0, 1]],
    ['2-12/2', 12, 1, [2, 4, 6, 8, 10, 12]],
    ['jan,mar', 12, 1, [1, 3]],
    ['0,30', 60, 0, [0, 30]],
  ])('%s', (spec, max, min, want) => {
    expect([...parseCronField(spec, max, min)].sort((a, b) => a - b)).toEqual(
      [...want].sort((a, b) => a - b),
    );
  });
  it('rejects what Celery rejects', () => {
    expect(() => parseCronField('60', 60)).toThrow(CrontabParseError);
    expect(() => parseCronField('*/', 60)).toThrow('empty filter');
    expect(() => parseCronField('1,,2', 60)).toThrow('empty part');
    expect(() => parseCronField('funday', 7)).toThrow("Invalid weekday literal 'funday'.");
    expect(() => parseCronField(0, 31, 1)).toThrow('Valid range is {1}-{31}');
  });
});

describe('interval schedule (celery.schedules.schedule)', () => {
  it('is due once run_every has passed since the last run', () => {
    const s = every(10);
    expect(s.isDue(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:04Z'))).toEqual({
      isDue: false,
      nextSeconds: 6,
    });
    expect(s.isDue(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:10Z'))).toEqual({
      isDue: true,
      nextSeconds: 10,
    });
  });
  it('relative rounds the deadline down to the unit of the interval', () => {
    expect(every(3600, { relative: true }).nextRunAfter(at('2026-01-01T10:20:00Z'))).toEqual(
      at('2026-01-01T11:00:00Z'),
    );
  });
});

describe('crontab schedule', () => {
  it('next run is the first matching minute after the last run, seconds dropped', () => {
    expect(crontab({ minute: '*/5' }).nextRunAfter(at('2026-01-01T10:02:30Z'))).toEqual(
      at('2026-01-01T10:05:00Z'),
    );
    expect(crontab({ minute: 0, hour: 3 }).nextRunAfter(at('2026-01-01T03:00:00Z'))).toEqual(
      at('2026-01-02T03:00:00Z'),
    );
    // 2026-01-01 is a Thursday; the next Monday is the 5th.
    expect(
      crontab({ minute: 30, hour: 7, dayOfWeek: 'mon' }).nextRunAfter(at('2026-01-01T00:00:00Z')),
    ).toEqual(at('2026-01-05T07:30:00Z'));
    expect(
      crontab({ minute: 0, hour: 0, dayOfMonth: 29, monthOfYear: 2 }).nextRunAfter(
        at('2026-03-01T00:00:00Z'),
      ),
    ).toEqual(at('2028-02-29T00:00:00Z'));
    expect(
      crontab({ dayOfMonth: 31, monthOfYear: 2 }).nextRunAfter(at('2026-01-01T00:00:00Z')),
    ).toBeNull();
  });
  it('matches wall-clock time in the schedule time zone', () => {
    // 03:00 in Paris is 02:00 UTC in winter and 01:00 UTC in summer.
    const s = crontab({ minute: 0, hour: 3 }, { timeZone: 'Europe/Paris' });
    expect(s.nextRunAfter(at('2026-01-10T00:00:00Z'))).toEqual(at('2026-01-10T02:00:00Z'));
    expect(s.nextRunAfter(at('2026-07-10T00:00:00Z'))).toEqual(at('2026-07-10T01:00:00Z'));
  });
  it('is due when the next run after last_run_at has come; then reports the run after now', () => {
    const s = crontab({ minute: '*' });
    expect(s.isDue(at('2026-01-01T10:00:00Z'), at('2026-01-01T10:00:40Z'))).toEqual({
      isDue: false,
      nextSeconds: 20,
    });
    expect(s.isDue(at('2026-01-01T10:00:00Z'), at('2026-01-01T10:01:00.500Z'))).toEqual({
      isDue: true,
      nextSeconds: 59.5,
    });
  });
  it('an unknown time zone fails when the schedule is defined', () => {
    expect(() => crontab({}, { timeZone: 'Mars/Olympus' })).toThrow(RangeError);
  });
});
