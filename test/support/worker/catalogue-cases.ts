import type { PyCase, PyOutcome } from './int-helpers';

/** A catalogue case and what Python's `AsyncResult.get()` must see. */
export interface Expectation {
  case: Omit<PyCase, 'id'>;
  /** Expected `repr(value)`, or the exception Python rebuilt. */
  expect:
    { repr: string } | { excType: string; excModule: string; excStr?: string } | { state: string };
}

/** The full catalogue matrix (json, protocol 2). */
export const FULL: Record<string, Expectation> = {
  add: { case: { task: 'conformance.add', args: [2, 3] }, expect: { repr: '5' } },
  addFloat: { case: { task: 'conformance.add', args: [2.5, 3] }, expect: { repr: '5.5' } },
  zlib: {
    case: { task: 'conformance.add', args: [2, 3], options: { compression: 'zlib' } },
    expect: { repr: '5' },
  },
  bzip2: {
    case: { task: 'conformance.identity', args: ['x'], options: { compression: 'bzip2' } },
    expect: { repr: "'x'" },
  },
  mul: { case: { task: 'conformance.mul', args: [3, 4] }, expect: { repr: '12' } },
  identity: {
    case: { task: 'conformance.identity', args: [{ a: [1, null, true], b: 'é' }] },
    expect: { repr: "{'a': [1, None, True], 'b': 'é'}" },
  },
  echo: {
    case: { task: 'conformance.echo', args: [1, 'x'], kwargs: { k: [2] } },
    expect: { repr: "{'args': [1, 'x'], 'kwargs': {'k': [2]}}" },
  },
  tsum: { case: { task: 'conformance.tsum', args: [[1, 2, 3]] }, expect: { repr: '6' } },
  kwargsByName: {
    case: { task: 'conformance.add', kwargs: { x: 1, y: 41 } },
    expect: { repr: '42' },
  },
  failKey: {
    case: { task: 'conformance.fail', args: ['KeyError', 'nope'] },
    expect: { excType: 'KeyError', excModule: 'builtins', excStr: "'nope'" },
  },
  failDefault: {
    case: { task: 'conformance.fail' },
    expect: { excType: 'ValueError', excModule: 'builtins', excStr: 'boom' },
  },
  failRuntime: {
    case: { task: 'conformance.fail', kwargs: { exc_type: 'RuntimeError', message: 'r' } },
    expect: { excType: 'RuntimeError', excModule: 'builtins', excStr: 'r' },
  },
  badArgs: {
    case: { task: 'conformance.add', args: [1] },
    expect: {
      excType: 'TypeError',
      excModule: 'builtins',
      excStr: "add() missing 1 required positional argument: 'y'",
    },
  },
  retry2: { case: { task: 'conformance.retry', args: [2] }, expect: { repr: '2' } },
  retryMax: {
    case: { task: 'conformance.retry', args: [4] },
    expect: { excType: 'MaxRetriesExceededError', excModule: 'celery.exceptions' },
  },
  progress: { case: { task: 'conformance.progress', args: [3] }, expect: { repr: '3' } },
  soft: {
    case: { task: 'conformance.sleep', args: [3], options: { soft_time_limit: 0.3 } },
    expect: { excType: 'SoftTimeLimitExceeded', excModule: 'billiard.exceptions' },
  },
  hard: {
    case: { task: 'conformance.sleep', args: [3], options: { time_limit: 0.5 } },
    expect: { excType: 'TimeLimitExceeded', excModule: 'billiard.exceptions' },
  },
  unknown: {
    case: { task: 'conformance.nope', args: [] },
    expect: { excType: 'NotRegistered', excModule: 'celery.exceptions' },
  },
  expired: {
    case: { task: 'conformance.add', args: [1, 1], options: { expires: 0.001 } },
    expect: { excType: 'TaskRevokedError', excModule: 'celery.exceptions', excStr: 'expired' },
  },
  countdown: {
    case: { task: 'conformance.add', args: [20, 22], options: { countdown: 1 } },
    expect: { repr: '42' },
  },
  ignored: { case: { task: 'conformance.ignored', no_wait: true }, expect: { state: 'PENDING' } },
};

/** The subset run for the other serializers and protocol 1. */
export const SUBSET = ['add', 'addFloat', 'identity', 'echo', 'failKey', 'retry2', 'unknown'];

/** Build producer cases with unique ids. */
export function casesFor(names: readonly string[], prefix: string): PyCase[] {
  return names.map((n) => ({ id: `${prefix}-${n}`, ...(FULL[n]?.case ?? { task: '?' }) }));
}

/** Compare one outcome; returns a description of the mismatch or null. */
export function mismatch(name: string, got: PyOutcome | undefined): string | null {
  const e = FULL[name]?.expect;
  if (!e || !got) return `${name}: no outcome`;
  if ('repr' in e) {
    return got.repr === e.repr ? null : `${name}: ${JSON.stringify(got)} ≠ repr ${e.repr}`;
  }
  if ('state' in e) return got.state === e.state ? null : `${name}: state ${got.state}`;
  const ok =
    got.exc_type === e.excType &&
    got.exc_module === e.excModule &&
    (e.excStr === undefined || got.exc_str === e.excStr);
  return ok ? null : `${name}: ${JSON.stringify(got)} ≠ ${JSON.stringify(e)}`;
}
