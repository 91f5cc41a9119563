import type { Broker } from '../brokers/broker';
import { brokerStatusLine, humanizeSeconds } from './broker-status-log';
import { connectWithRetry } from './startup';

describe('startup connection retry (broker_connection_retry_on_startup)', () => {
  it('logs each failure with its reason in Celery’s words, then connects', async () => {
    let calls = 0;
    const broker = {
      connect: () => {
        calls++;
        return calls < 3
          ? Promise.reject(new Error('WRONGPASS invalid username-password pair'))
          : Promise.resolve();
      },
    } as unknown as Broker;
    const lines: string[] = [];
    await connectWithRetry(broker, {
      retry: true,
      maxRetries: 100,
      target: 'redis://:secret@127.0.0.1:6379/2',
      log: (_l, m) => lines.push(m),
      isStopping: () => false,
      backoff: () => 1,
    });
    expect(calls).toBe(3);
    expect(lines).toEqual([
      'consumer: Cannot connect to redis://:**@127.0.0.1:6379/2: WRONGPASS invalid username-password pair.\nTrying again now... (1/100)\n',
      'consumer: Cannot connect to redis://:**@127.0.0.1:6379/2: WRONGPASS invalid username-password pair.\nTrying again now... (2/100)\n',
    ]);
  });

  it('gives up after max retries, and does not retry when disabled', async () => {
    const broker = { connect: () => Promise.reject(new Error('refused')) } as unknown as Broker;
    const o = {
      target: 'amqp://x',
      log: () => undefined,
      isStopping: () => false,
      backoff: () => 1,
    };
    await expect(connectWithRetry(broker, { ...o, retry: true, maxRetries: 2 })).rejects.toThrow(
      'refused',
    );
    await expect(connectWithRetry(broker, { ...o, retry: false, maxRetries: 2 })).rejects.toThrow(
      'refused',
    );
  });

  it('formats statuses as Celery (humanize_seconds, CONNECTION_RETRY)', () => {
    expect(humanizeSeconds(2, 'in', ' ')).toBe('in 2.00 seconds');
    expect(humanizeSeconds(1, 'in', ' ')).toBe('in 1.00 second');
    expect(humanizeSeconds(90, 'in', ' ')).toBe('in 1.50 minutes');
    const reason = Object.assign(new Error('Socket closed'), { name: 'ConnectionResetError' });
    expect(brokerStatusLine({ state: 'lost', target: 't', reason })?.msg).toBe(
      "consumer: Connection to broker lost. Trying to re-establish the connection... (ConnectionResetError('Socket closed'))",
    );
    expect(
      brokerStatusLine({
        state: 'reconnecting',
        target: 'amqp://guest:**@127.0.0.1:5672//',
        attempt: 3,
        delayMs: 6000,
        reason,
      })?.msg,
    ).toBe(
      'consumer: Cannot connect to amqp://guest:**@127.0.0.1:5672//: Socket closed.\nTrying again in 6.00 seconds... (3/100)\n',
    );
  });
});
