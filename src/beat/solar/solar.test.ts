import { encodeDefinition } from '../redbeat-json';
import { fromEphemDate, solar, SolarSchedule, toEphemDate } from './solar';

// Interop with Celery + ephem is test/integration/beat-solar.test.ts; these pin the schedule's
// own rules with a fixed clock.
describe('solar schedule', () => {
  it('refuses what Celery refuses, with its messages', () => {
    expect(() => solar('moonrise' as never, 0, 0)).toThrow(
      'Argument event "moonrise" is invalid, must be one of dawn_astronomical, dawn_civil',
    );
    expect(() => solar('sunrise', 91, 0)).toThrow(
      'Argument latitude 91 is invalid, must be between -90 and 90.',
    );
    expect(() => solar('sunrise', 0, -181)).toThrow(
      'Argument longitude -181 is invalid, must be between -180 and 180.',
    );
  });

  it('converts instants as ephem.Date does, both ways', () => {
    expect(toEphemDate(new Date('1899-12-31T12:00:00Z'))).toBe(0);
    expect(toEphemDate(new Date('2000-01-01T12:00:00Z'))).toBe(36525);
    const at = new Date('2026-06-21T12:34:56.789Z');
    expect(fromEphemDate(toEphemDate(at)).toISOString()).toBe(at.toISOString());
  });

  it('is due once the event has passed, and then waits for the next one', () => {
    const s = new SolarSchedule('solar_noon', 0, 0);
    const last = new Date('2026-03-20T00:00:00Z');
    const noon = s.nextRunAfter(last);
    // Solar noon on the Greenwich meridian is 12:00 UTC ± the equation of time (≈ 7 min then).
    expect(Math.abs(noon.getTime() - Date.parse('2026-03-20T12:07:00Z'))).toBeLessThan(120_000);
    const before = s.isDue(last, new Date(noon.getTime() - 10_000));
    expect(before.isDue).toBe(false);
    expect(before.nextSeconds).toBeCloseTo(10, 2);
    const after = s.isDue(last, new Date(noon.getTime() + 1_000));
    expect(after.isDue).toBe(true);
    // The next check is the next day's noon, about a day later.
    expect(Math.abs(after.nextSeconds - 86_400)).toBeLessThan(120);
  });

  it('skips the polar night: the next sunrise in Tromsø after 1 December is in January', () => {
    const next = solar('sunrise', 69.65, 18.96).nextRunAfter(new Date('2026-12-01T00:00:00Z'));
    expect(next.getTime()).toBeGreaterThan(Date.parse('2027-01-10T00:00:00Z'));
    expect(next.getTime()).toBeLessThan(Date.parse('2027-01-20T00:00:00Z'));
  });

  it('is not storable in RedBeat, as celery-redbeat 2.4.2 cannot store it either', () => {
    expect(() =>
      encodeDefinition({
        name: 'n',
        task: 't',
        args: [],
        kwargs: {},
        options: {},
        schedule: solar('sunset', 1, 1),
        enabled: true,
      }),
    ).toThrow('Object of type solar is not JSON serializable');
  });
});
