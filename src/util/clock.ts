/** Injected time source, so that layer-1 code and tests never read the real clock directly. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The process clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that always returns the given instant (tests, fixtures). */
export function fixedClock(ms: number): Clock {
  return { now: () => ms };
}
