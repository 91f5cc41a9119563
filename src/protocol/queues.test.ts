import { resolveConfig } from '../config/config';
import { appQueues, detectQuorumQueue, lookupQueue } from './queues';

// What `app.amqp.queues` holds in Celery 5.7.0 for the same settings (checked in a 5.7 venv).
describe('app queue table', () => {
  test('default queue typed by task_default_queue_type, x-max-priority added', () => {
    const s = resolveConfig({ taskDefaultQueueType: 'quorum', taskQueueMaxPriority: 5 });
    expect(appQueues(s)).toEqual([
      {
        name: 'celery',
        exchange: 'celery',
        exchangeType: 'direct',
        routingKey: 'celery',
        arguments: { 'x-queue-type': 'quorum', 'x-max-priority': 5 },
      },
    ]);
    expect(detectQuorumQueue(s, 'amqp')).toBe('celery');
    expect(detectQuorumQueue(s, 'redis')).toBeUndefined();
    expect(detectQuorumQueue(resolveConfig({}), 'amqp')).toBeUndefined();
  });

  test('task_queues entries take the default exchange and routing key (Queues.add)', () => {
    const s = resolveConfig({
      taskQueues: [
        { name: 'a' },
        {
          name: 'b',
          exchange: 'bx',
          exchangeType: 'topic',
          routingKey: 'b.#',
          queueArguments: { 'x-queue-type': 'quorum' },
        },
      ],
    });
    expect(lookupQueue('a', s)).toEqual({
      name: 'a',
      exchange: 'celery',
      exchangeType: 'direct',
      routingKey: 'celery',
    });
    expect(lookupQueue('b', s).arguments).toEqual({ 'x-queue-type': 'quorum' });
    expect(lookupQueue('new1', s)).toEqual({
      name: 'new1',
      exchange: 'new1',
      exchangeType: 'direct',
      routingKey: 'new1',
    });
    expect(lookupQueue('new1', { ...s, taskCreateMissingQueueType: 'quorum' }).arguments).toEqual({
      'x-queue-type': 'quorum',
    });
  });
});
