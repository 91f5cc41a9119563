import { hostname } from 'node:os';
import { MemoryBroker } from '../brokers/memory/memory-broker';
import { MailboxClient } from '../control/mailbox-client';
import { BeatPidbox, beatNodename } from './beat-pidbox';

// Over the in-memory broker; Celery's own CLI against a real beat is beat-ping.test.ts.
describe('BeatPidbox', () => {
  it('names the node as beat_nodename does', () => {
    expect(beatNodename(undefined, 'h.example')).toBe('celerybeat@h.example');
    expect(beatNodename('box', 'h.example')).toBe('celerybeat@box');
    expect(beatNodename('me@%n', 'h.example')).toBe('me@h');
    expect(beatNodename('@x', 'h.example')).toBe('celerybeat@x');
    expect(beatNodename(null)).toBe(`celerybeat@${hostname()}`);
  });

  it('answers ping with pong, nothing else, and nothing once the scheduler is stale', async () => {
    const broker = new MemoryBroker();
    await broker.connect();
    let age: number | null = 0;
    const logs: string[] = [];
    const box = new BeatPidbox({
      broker,
      hostname: 'celerybeat@t',
      maxInterval: 1,
      tickAge: () => age,
      log: (l, m) => logs.push(`${l} ${m}`),
    });
    expect(box.maxTickAge).toBe(60); // max(2 × 1 s, the 60 s floor)
    await box.start();
    let n = 0;
    const client = new MailboxClient({
      broker: () => Promise.resolve(broker),
      oid: 'oid-1',
      controlExchange: 'celery',
      serializer: 'json',
      accept: ['json'],
      jsonDialect: 'kombu-5.3',
      exclusive: false,
      now: () => Date.now(),
      uuid: () => `ticket-${String(++n)}`,
    });
    const ask = (cmd: string) =>
      client.broadcast(cmd, {}, { destination: ['celerybeat@t'], reply: true, timeout: 0.3 });
    try {
      expect(await ask('ping')).toEqual([{ 'celerybeat@t': { ok: 'pong' } }]);
      expect(await ask('active')).toEqual([]);
      age = 61;
      expect(await ask('ping')).toEqual([]);
      expect(logs.join('\n')).toContain(
        'beat pidbox: not answering ping, the scheduler has not ticked for 61.0s (over the 60s limit).',
      );
      age = null; // before the first tick: never stale
      expect(await ask('ping')).toEqual([{ 'celerybeat@t': { ok: 'pong' } }]);
    } finally {
      await box.stop();
      await broker.close();
    }
  });
});
