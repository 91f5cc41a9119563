import type { Broker, PublishTarget } from '../brokers/broker';
import type { RawMessage } from '../protocol/raw-message';
import { LamportClock } from './clock';
import { EventDispatcher, utcoffsetHours } from './dispatcher';

describe('event dispatcher (celery/events/dispatcher.py)', () => {
  it('builds Celery’s key order and publishes to celeryev with the dotted routing key', async () => {
    const sent: [RawMessage, PublishTarget][] = [];
    const broker = {
      publish: (m: RawMessage, t: PublishTarget) => {
        sent.push([m, t]);
        return Promise.resolve();
      },
    } as unknown as Broker;
    const d = new EventDispatcher({
      broker,
      hostname: 'w@h',
      pid: 7,
      clock: new LamportClock(),
      now: () => 1_700_000_000_500,
      transport: 'amqp',
      enabled: true,
    });
    await d.send('task-succeeded', { uuid: 'u', result: '5' });
    const [msg, target] = sent[0] ?? [];
    expect(target).toEqual({ exchange: 'celeryev', routingKey: 'task.succeeded' });
    expect(msg?.headers).toEqual({ hostname: 'w@h' });
    expect(msg?.properties.delivery_mode).toBe(1);
    const text = new TextDecoder().decode(msg?.body);
    expect(text).toMatch(
      /^\{"hostname": "w@h", "utcoffset": -?\d+\.\d+, "pid": 7, "clock": 1, "uuid": "u", "result": "5", "timestamp": 1700000000\.5, "type": "task-succeeded"\}$/,
    );
  });
  it('sends nothing while disabled', async () => {
    const broker = {
      publish: () => Promise.reject(new Error('must not publish')),
    } as unknown as Broker;
    const d = new EventDispatcher({
      broker,
      hostname: 'w@h',
      pid: 1,
      clock: new LamportClock(),
      now: Date.now,
      transport: 'redis',
    });
    await d.send('task-started', { uuid: 'u' });
    expect(d.sent).toBe(0);
  });
  it('reports the UTC offset in hours west, exactly (time.timezone / 3600)', () => {
    const d = new Date();
    expect(utcoffsetHours(d)).toBe(d.getTimezoneOffset() / 60);
  });

  it('sends utcoffset as the profile says: float on 5.7, floor-divided int on 5.2', async () => {
    const bodies: string[] = [];
    for (const profile of ['celery-5.7', 'celery-5.2'] as const) {
      const broker = {
        publish: (m: RawMessage) => {
          bodies.push(new TextDecoder().decode(m.body));
          return Promise.resolve();
        },
      } as unknown as Broker;
      const d = new EventDispatcher({
        broker,
        hostname: 'w@h',
        pid: 1,
        clock: new LamportClock(),
        now: () => 0,
        utcoffset: () => -5.5,
        profile,
        transport: 'redis',
        enabled: true,
      });
      await d.send('task-started', { uuid: 'u' });
    }
    expect(bodies[0]).toContain('"utcoffset": -5.5,');
    expect(bodies[1]).toContain('"utcoffset": -6,');
  });
});
