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

  describe('task event buffering (buffer_group, task.multi)', () => {
    function buffered(limit?: number): {
      d: EventDispatcher;
      sent: [RawMessage, PublishTarget][];
      flushes: (() => void)[];
    } {
      const sent: [RawMessage, PublishTarget][] = [];
      const flushes: (() => void)[] = [];
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
        utcoffset: () => 0,
        transport: 'redis',
        enabled: true,
        bufferGroup: ['task'],
        ...(limit === undefined ? {} : { bufferLimit: limit }),
        scheduleFlush: (f) => flushes.push(f),
      });
      return { d, sent, flushes };
    }
    const body = (m: RawMessage | undefined): unknown =>
      JSON.parse(new TextDecoder().decode(m?.body)) as unknown;

    it('buffers task events and flushes them as one list under task.multi on the next turn', async () => {
      const { d, sent, flushes } = buffered();
      const done = [
        d.send('task-received', { uuid: 'u' }),
        d.send('task-started', { uuid: 'u' }),
        d.send('task-succeeded', { uuid: 'u', result: '5' }),
      ];
      expect(sent).toHaveLength(0);
      expect(flushes).toHaveLength(1); // one pending flush, as `_flush_events_promise`
      flushes[0]?.();
      await Promise.all(done);
      expect(sent).toHaveLength(1);
      const [m, t] = sent[0] ?? [];
      expect(t).toEqual({ exchange: 'celeryev', routingKey: 'task.multi' });
      expect(m?.headers).toEqual({ hostname: 'w@h' });
      expect(new TextDecoder().decode(m?.body)).toBe(
        '[{"hostname": "w@h", "utcoffset": 0.0, "pid": 7, "clock": 1, "uuid": "u", "timestamp": 1700000000.5, "type": "task-received"}, ' +
          '{"hostname": "w@h", "utcoffset": 0.0, "pid": 7, "clock": 2, "uuid": "u", "timestamp": 1700000000.5, "type": "task-started"}, ' +
          '{"hostname": "w@h", "utcoffset": 0.0, "pid": 7, "clock": 3, "uuid": "u", "result": "5", "timestamp": 1700000000.5, "type": "task-succeeded"}]',
      );
    });

    it('flushes at once when a group holds buffer_limit events; other groups are sent singly', async () => {
      const { d, sent, flushes } = buffered(24);
      const done: Promise<void>[] = [];
      for (let i = 0; i < 25; i++) done.push(d.send('task-started', { uuid: String(i) }));
      await d.send('worker-heartbeat', {});
      expect(sent.map(([, t]) => t.routingKey)).toEqual(['task.multi', 'worker.heartbeat']);
      expect((body(sent[0]?.[0]) as unknown[]).length).toBe(24);
      expect(d.buffered).toBe(1);
      for (const f of flushes.splice(0)) f();
      await Promise.all(done);
      expect(sent.map(([, t]) => t.routingKey)).toEqual([
        'task.multi',
        'worker.heartbeat',
        'task.multi',
      ]);
      expect(body(sent[2]?.[0])).toMatchObject([{ uuid: '24', type: 'task-started' }]);
    });

    it('flush() publishes what is buffered (worker shutdown) and nothing when empty', async () => {
      const { d, sent } = buffered();
      const p = d.send('task-failed', { uuid: 'u' });
      await d.flush();
      await p;
      await d.flush();
      expect(sent).toHaveLength(1);
      expect(body(sent[0]?.[0])).toMatchObject([{ type: 'task-failed' }]);
    });
  });
});
