import { MAX_TIMER_MS, setLongTimeout } from './long-timer';

describe('setLongTimeout (timers longer than 2^31-1 ms)', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('an ETA a month ahead does not fire at once, and fires after its full delay', () => {
    const month = 31 * 24 * 3600 * 1000;
    expect(month).toBeGreaterThan(MAX_TIMER_MS);
    const fn = jest.fn();
    setLongTimeout(fn, month);
    jest.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(month - 1001);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('short delays behave as setTimeout; cancel stops a chained timer', () => {
    const fn = jest.fn();
    setLongTimeout(fn, 50);
    jest.advanceTimersByTime(49);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    const g = jest.fn();
    const t = setLongTimeout(g, 3 * MAX_TIMER_MS);
    jest.advanceTimersByTime(MAX_TIMER_MS + 5);
    t.cancel();
    jest.advanceTimersByTime(3 * MAX_TIMER_MS);
    expect(g).not.toHaveBeenCalled();
  });
});
