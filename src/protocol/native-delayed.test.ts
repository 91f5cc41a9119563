import {
  calculateRoutingKey,
  delayBindings,
  delayTopology,
  deliveryExchange,
  levelName,
} from './native-delayed';

// kombu/transport/native_delayed_delivery.py (5.5.4, 5.6.2, 5.7.0), read line by line.
describe('native delayed delivery topology', () => {
  test('routing key: 28 binary digits, then the key; 5.7 strips a carried-forward prefix', () => {
    const five = '0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.1.';
    expect(calculateRoutingKey(5, 'q', true)).toBe(`${five}q`);
    expect(calculateRoutingKey(5.9, 'q', false)).toBe(`${five}q`);
    expect(calculateRoutingKey(5, `${five}q`, true)).toBe(`${five}q`);
    expect(calculateRoutingKey(5, `${five}q`, false)).toBe(`${five}${five}q`);
    expect(() => calculateRoutingKey(0, 'q', true)).toThrow('countdown must be a positive number');
    expect(() => calculateRoutingKey(1, '', true)).toThrow('routing_key must be non-empty');
  });

  test('names, with 5.7 prefix', () => {
    expect(levelName(27)).toBe('celery_delayed_27');
    expect(levelName(3, 'p')).toBe('p_celery_delayed_3');
    expect(deliveryExchange()).toBe('celery_delayed_delivery');
    expect(deliveryExchange('p')).toBe('p_celery_delayed_delivery');
  });

  test('28 levels: TTL 2^level s, dead-lettered one level down, level 0 to the delivery exchange', () => {
    const steps = delayTopology('quorum');
    const queues = steps.filter((s) => s.kind === 'queue');
    expect(queues).toHaveLength(28);
    expect(queues[0]).toEqual({
      kind: 'queue',
      name: 'celery_delayed_27',
      arguments: {
        'x-queue-type': 'quorum',
        'x-overflow': 'reject-publish',
        'x-message-ttl': 2 ** 27 * 1000,
        'x-dead-letter-exchange': 'celery_delayed_26',
        'x-dead-letter-strategy': 'at-least-once',
      },
    });
    expect(queues[27]?.kind === 'queue' && queues[27].arguments).toEqual({
      'x-queue-type': 'quorum',
      'x-overflow': 'reject-publish',
      'x-message-ttl': 1000,
      'x-dead-letter-exchange': 'celery_delayed_delivery',
      'x-dead-letter-strategy': 'at-least-once',
    });
    const classic = delayTopology('classic').filter((s) => s.kind === 'queue');
    expect(classic[0]?.kind === 'queue' && classic[0].arguments['x-dead-letter-strategy']).toBe(
      undefined,
    );
    const binds = steps.filter((s) => s.kind === 'bind-queue');
    expect(binds[0]).toMatchObject({ queue: 'celery_delayed_27', routingKey: '1.#' });
    expect(binds[27]).toMatchObject({ routingKey: `${'*.'.repeat(27)}1.#` });
    const e2e = steps.filter((s) => s.kind === 'bind-exchange');
    expect(e2e).toHaveLength(28);
    expect(e2e[0]).toEqual({
      kind: 'bind-exchange',
      destination: 'celery_delayed_26',
      source: 'celery_delayed_27',
      routingKey: '0.#',
    });
    expect(e2e[27]).toEqual({
      kind: 'bind-exchange',
      destination: 'celery_delayed_delivery',
      source: 'celery_delayed_0',
      routingKey: `${'*.'.repeat(27)}0.#`,
    });
  });

  test('queue bindings: #.<key> on non-direct exchanges, the warning on direct ones', () => {
    const q = { name: 'q', exchange: 'x', exchangeType: 'topic', routingKey: 'k' };
    expect(delayBindings(q)).toEqual({
      steps: [
        {
          kind: 'bind-exchange',
          destination: 'x',
          source: 'celery_delayed_delivery',
          routingKey: '#.k',
        },
        { kind: 'bind-queue', queue: 'q', exchange: 'x', routingKey: '#.k' },
      ],
    });
    expect(delayBindings({ ...q, routingKey: '#.a' })).toMatchObject({
      steps: [{ routingKey: '#.a' }, { routingKey: '#.a' }],
    });
    expect(delayBindings({ ...q, exchangeType: 'direct' })).toEqual({
      warning:
        'Exchange x is a direct exchange and native delayed delivery do not support direct exchanges.\n' +
        'ETA tasks published to this exchange will block the worker until the ETA arrives.',
    });
  });
});
