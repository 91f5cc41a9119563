import { PyFloat } from '../serialization/py-values';
import { brokerInfo, maskBrokerUrl, sanitizeUrl } from './control-broker-info';
import { idList, numArg, pyTruthy, strtobool } from './control-args';
import { celeryConfDefaults, confReply } from './control-conf';
import { controlQuirks } from './control-quirks';

describe('control arguments read as a Python worker reads them', () => {
  it('truthiness: Flower’s terminate=1 is true, "0" is a non-empty string', () => {
    expect([1, true, '0', 'x', [1], { a: 1 }, new PyFloat(2)].map(pyTruthy)).toEqual(
      Array(7).fill(true),
    );
    expect([0, false, '', null, undefined, [], {}, new PyFloat(0)].map(pyTruthy)).toEqual(
      Array(8).fill(false),
    );
  });
  it('numbers from strings, strtobool, maybe_list', () => {
    expect([numArg('2'), numArg(3), numArg(new PyFloat(1)), numArg('x'), numArg(null)]).toEqual([
      2,
      3,
      1,
      undefined,
      undefined,
    ]);
    expect([strtobool('1'), strtobool('False'), strtobool(true)]).toEqual([true, false, true]);
    expect(() => strtobool('maybe')).toThrow(TypeError);
    expect([idList('a'), idList(['a', 1, 'b']), idList(null)]).toEqual([['a'], ['a', 'b'], []]);
  });
});

describe('stats.broker and conf URLs as kombu shows them', () => {
  it('Connection.info() keys per line (values checked against kombu 5.2 and 5.7)', () => {
    const r = brokerInfo('redis://127.0.0.1:6379/14', { credentialProvider: true });
    expect(Object.keys(r)).toHaveLength(15);
    expect(r).toMatchObject({
      hostname: '127.0.0.1',
      userid: null,
      virtual_host: '14',
      port: 6379,
    });
    const a = brokerInfo('amqp://u:p@h/vh', { credentialProvider: false });
    expect(a).toMatchObject({ userid: 'u', virtual_host: 'vh', port: 5672, login_method: 'PLAIN' });
    expect('credential_provider' in a).toBe(false);
  });
  it('as_uri(mask) and sanitize_url (outputs of kombu 5.7 / 5.2)', () => {
    expect(maskBrokerUrl('redis://127.0.0.1:6379/14', true)).toBe(
      'redis://:********@127.0.0.1:6379/14',
    );
    expect(maskBrokerUrl('redis://127.0.0.1:6379/14', false)).toBe('redis://127.0.0.1:6379/14');
    expect(maskBrokerUrl('redis://h', true)).toBe('redis://:********@h:6379//');
    expect(maskBrokerUrl('amqp://h', false)).toBe('amqp://guest:********@h:5672//');
    expect(maskBrokerUrl('amqp://u:p@h/vh', false)).toBe('amqp://u:********@h:5672/vh');
    expect(sanitizeUrl('redis://:pw@h:6380')).toBe('redis://:********@h:6380/');
    expect(sanitizeUrl('redis://127.0.0.1:6379/14')).toBe('redis://127.0.0.1:6379/14');
  });
  it('conf with defaults is Celery’s table; a change keeps the default’s float type', () => {
    expect(Object.keys(celeryConfDefaults('5.7'))).toHaveLength(208);
    expect(Object.keys(celeryConfDefaults('5.2'))).toHaveLength(170);
    const r = confReply(
      { result_chord_retry_interval: 30, redis_password: 'x' },
      { withDefaults: true, line: '5.7' },
    );
    expect(r.result_chord_retry_interval).toEqual(new PyFloat(30));
    expect(r.redis_password).toBe('********');
    expect(confReply({ a: 1 }, { withDefaults: false, line: '5.7' })).toEqual({ a: 1 });
  });
  it('line quirks', () => {
    expect(controlQuirks('5.7')).toMatchObject({
      helloRevokedList: true,
      queryTaskScheduled: true,
    });
    expect(controlQuirks('5.6')).toMatchObject({ helloRevokedList: false, stampedRevoke: true });
    expect(controlQuirks('5.2')).toMatchObject({
      stampedRevoke: false,
      brokerCredentialProvider: false,
    });
  });
});
