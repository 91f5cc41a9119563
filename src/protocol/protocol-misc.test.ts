import { ProtocolError } from '../errors/errors';
import {
  backendKeyPrefixes,
  chordKey,
  chordUnlockKey,
  groupMetaKey,
  lineGlobalKeyPrefix,
  normalizeGlobalKeyPrefix,
  taskMetaKey,
} from './backend-keys';
import { parseControlRequest, pidboxQueue, replyQueue } from './control';
import { buildEvent, multiEventRoutingKey, parseEventBody } from './event';
import { exceptionFromDict, prepareException } from './exception';
import { getProfile, profileForVersion } from './profiles';
import { groupResultTuple, parseResultMeta } from './result-meta';
import { parseSignature } from './signature';
import { precedence, READY_STATES, stateGreaterThan } from './states';

describe('states', () => {
  it('orders states as celery/states.py', () => {
    expect(stateGreaterThan('SUCCESS', 'PENDING')).toBe(true);
    expect(stateGreaterThan('PROGRESS', 'REVOKED')).toBe(true);
    expect(stateGreaterThan('RETRY', 'STARTED')).toBe(false);
    expect(precedence('CUSTOM')).toBe(precedence('OTHER'));
    expect([...READY_STATES]).toEqual(['SUCCESS', 'FAILURE', 'REVOKED']);
  });
});

describe('backend keys', () => {
  it('applies global_keyprefix like _add_global_keyprefix', () => {
    expect(normalizeGlobalKeyPrefix('app')).toBe('app_');
    expect(normalizeGlobalKeyPrefix('app:')).toBe('app:');
    expect(backendKeyPrefixes('x-').task).toBe('x-celery-task-meta-');
    expect(taskMetaKey('t1')).toBe('celery-task-meta-t1');
    expect(groupMetaKey('g', 'p')).toBe('p_celery-taskset-meta-g');
    expect(chordKey('g', 's')).toBe('celery-taskset-meta-g.s');
    expect(chordUnlockKey('g')).toBe('chord-unlock-g');
    expect(() => taskMetaKey('')).toThrow(RangeError);
  });
  it('joins global_keyprefix per line, as _add_global_keyprefix of each line', () => {
    // 5.5+: `_` unless the prefix ends in one of `:_-.`; 5.3/5.4: always `_`; 5.2: no option.
    const style = (v: string) => getProfile(profileForVersion(v)).redisBackendKeyprefix;
    expect(lineGlobalKeyPrefix('app:', style('5.7.0'))).toBe('app:');
    expect(lineGlobalKeyPrefix('app:', style('5.5.3'))).toBe('app:');
    expect(lineGlobalKeyPrefix('app:', style('5.4.0'))).toBe('app:_');
    expect(lineGlobalKeyPrefix('app:', style('5.3.6'))).toBe('app:_');
    expect(lineGlobalKeyPrefix('app', style('5.3.6'))).toBe('app_');
    expect(lineGlobalKeyPrefix('app:', style('5.2.7'))).toBe('');
    // Already joined: passing it on to the key functions changes nothing.
    expect(taskMetaKey('t', lineGlobalKeyPrefix('app:', style('5.4.0')))).toBe(
      'app:_celery-task-meta-t',
    );
    expect(getProfile(profileForVersion('5.1.2')).redisBrokerKeyprefix).toBe(false);
    expect(getProfile(profileForVersion('5.2.7')).redisBrokerKeyprefix).toBe(true);
  });
  it('builds GroupResult tuples', () => {
    expect(groupResultTuple('g', ['a', 'b'])).toEqual([
      ['g', null],
      [
        [['a', null], null],
        [['b', null], null],
      ],
    ]);
  });
});

describe('validators', () => {
  it('rejects malformed signatures, events, control messages and results with paths', () => {
    const path = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        if (e instanceof ProtocolError) return e.path;
      }
      return 'no error';
    };
    expect(path(() => parseSignature({ task: 't', kwargs: [] }, '/x'))).toBe('/x/kwargs');
    expect(path(() => parseEventBody([{ type: 'a' }, { hostname: 'h' }]))).toBe('/1/type');
    expect(path(() => parseControlRequest({ method: 'ping', reply_to: 'q' }))).toBe('/reply_to');
    expect(path(() => parseResultMeta({ status: 'SUCCESS', children: 3 }))).toBe('/children');
    expect(path(() => exceptionFromDict({ exc_message: [] }))).toBe('/result/exc_type');
  });
  it('rebuilds exceptions as exception_to_python reads them', () => {
    expect(
      exceptionFromDict({ exc_type: 'KeyError', exc_message: 'k', exc_module: 'builtins' }).args,
    ).toEqual(['k']);
    expect(exceptionFromDict({ exc_type: 'X', exc_message: ['a', 1] }).message).toBe("('a', 1)");
    expect(prepareException({ excType: 'E', excModule: 'm', args: [1] })).toEqual({
      exc_type: 'E',
      exc_message: [1],
      exc_module: 'm',
    });
    const r = parseResultMeta({
      status: 'FAILURE',
      result: { exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' },
    });
    expect(r.error?.message).toBe('boom');
  });
});

describe('events and control', () => {
  it('keeps a timestamp given as a field in place', () => {
    const ev = buildEvent(
      'task-x',
      { uuid: 'u', timestamp: 5.5 },
      { hostname: 'h', pid: 1, clock: 2, utcoffsetHours: 0, timestamp: 1.5 },
    );
    expect(Object.keys(ev)).toEqual([
      'hostname',
      'utcoffset',
      'pid',
      'clock',
      'uuid',
      'timestamp',
      'type',
    ]);
    expect(ev.timestamp).toBe(5.5);
    expect(multiEventRoutingKey('task')).toBe('task.multi');
  });
  it('names pidbox queues', () => {
    expect(pidboxQueue('w1@h')).toBe('w1@h.celery.pidbox');
    expect(replyQueue('oid')).toBe('oid.reply.celery.pidbox');
  });
});

describe('profiles', () => {
  it('maps versions to lines', () => {
    expect(profileForVersion('5.7.0').name).toBe('celery-5.7');
    expect(profileForVersion('5.2.7').name).toBe('celery-5.2');
    expect(profileForVersion('4.4.7').name).toBe('celery-4.4');
    expect(getProfile('celery-4.4').headerKeys).not.toContain('ignore_result');
    expect(() => getProfile('celery-9' as 'celery-5.7')).toThrow(RangeError);
  });
});
