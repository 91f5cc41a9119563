/**
 * Task states, their groups and precedence, as `celery/states.py` defines them.
 */
export const PENDING = 'PENDING';
export const RECEIVED = 'RECEIVED';
export const STARTED = 'STARTED';
export const SUCCESS = 'SUCCESS';
export const FAILURE = 'FAILURE';
export const REVOKED = 'REVOKED';
export const REJECTED = 'REJECTED';
export const RETRY = 'RETRY';
export const IGNORED = 'IGNORED';

/** States after which a result will not change. */
export const READY_STATES: ReadonlySet<string> = new Set([SUCCESS, FAILURE, REVOKED]);
/** States that may still change. */
export const UNREADY_STATES: ReadonlySet<string> = new Set([
  PENDING,
  RECEIVED,
  STARTED,
  REJECTED,
  RETRY,
]);
/** States whose `result` is an encoded exception. */
export const EXCEPTION_STATES: ReadonlySet<string> = new Set([RETRY, FAILURE, REVOKED]);
/** States that fail a chord/join. */
export const PROPAGATE_STATES: ReadonlySet<string> = new Set([FAILURE, REVOKED]);

// `celery/states.py`, PRECEDENCE: index 0 is the highest; unknown states sit where `None` is.
const PRECEDENCE: readonly (string | null)[] = [
  SUCCESS,
  FAILURE,
  null,
  REVOKED,
  STARTED,
  RECEIVED,
  REJECTED,
  RETRY,
  PENDING,
];

/** `states.precedence(state)`: lower is more final; custom states rank with `None`. */
export function precedence(state: string): number {
  const i = PRECEDENCE.indexOf(state);
  return i >= 0 ? i : PRECEDENCE.indexOf(null);
}

/** `state(a) > state(b)` in Celery's ordering (a is "further along" than b). */
export function stateGreaterThan(a: string, b: string): boolean {
  return precedence(a) < precedence(b);
}
