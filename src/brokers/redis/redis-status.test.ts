import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { BrokerStatus } from '../broker';
import { RedisStatusStream } from './redis-status';

describe('RedisStatusStream', () => {
  const stream = (): { s: RedisStatusStream; seen: BrokerStatus[]; client: EventEmitter } => {
    const s = new RedisStatusStream('redis://127.0.0.1:6379/0', () => false);
    const seen: BrokerStatus[] = [];
    s.on((x) => seen.push(x));
    const client = new EventEmitter();
    s.attach(client as unknown as Redis);
    return { s, seen, client };
  };

  it('a failed first connect is the caller’s to report: no reconnecting line of its own', () => {
    // The CLI worker once logged each startup failure twice, numbered 2/4/6 and 1/2/3.
    const { s, seen, client } = stream();
    s.connecting();
    client.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    client.emit('close');
    client.emit('reconnecting', 2000);
    expect(seen.map((x) => x.state)).toEqual(['connecting']);
  });

  it('after it was up, a loss and each reconnect are reported, numbered from 1', () => {
    const { s, seen, client } = stream();
    s.connecting();
    client.emit('ready');
    client.emit('error', new Error('read ECONNRESET'));
    client.emit('close');
    client.emit('reconnecting', 2000);
    client.emit('reconnecting', 4000);
    expect(seen.map((x) => x.state)).toEqual([
      'connecting',
      'connected',
      'lost',
      'reconnecting',
      'reconnecting',
    ]);
    const r = seen.flatMap((x) => (x.state === 'reconnecting' ? [[x.attempt, x.delayMs]] : []));
    expect(r).toEqual([
      [1, 2000],
      [2, 4000],
    ]);
  });
});
