/** Node's timer limit: a delay above 2^31-1 ms overflows and fires after 1 ms (with a warning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A cancellable timer of any length. */
export interface LongTimer {
  cancel(): void;
}

/**
 * `setTimeout` for any delay: longer delays are chained in steps of at most {@link MAX_TIMER_MS},
 * so an ETA a month ahead or a 30-day time limit waits its full time instead of firing at once.
 * Non-finite or negative delays fire on the next turn, as `setTimeout(fn, 0)`.
 */
export function setLongTimeout(fn: () => void, delayMs: number): LongTimer {
  let remaining = Number.isFinite(delayMs) ? Math.max(0, delayMs) : 0;
  let handle: NodeJS.Timeout | undefined;
  let cancelled = false;
  const step = (): void => {
    if (cancelled) return;
    if (remaining > MAX_TIMER_MS) {
      remaining -= MAX_TIMER_MS;
      handle = setTimeout(step, MAX_TIMER_MS);
      return;
    }
    handle = setTimeout(() => {
      handle = undefined;
      if (!cancelled) fn();
    }, remaining);
    remaining = 0;
  };
  step();
  return {
    cancel: () => {
      cancelled = true;
      if (handle) clearTimeout(handle);
    },
  };
}
