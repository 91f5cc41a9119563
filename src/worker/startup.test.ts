import type { Broker } from '../brokers/broker';
import type { BrokerStatusListener } from '../brokers/broker';
import { BrokerConnectionError } from '../errors/errors';
import {
  brokerStatusLine,
  failoverLine,
  humanizeSeconds,
  printedReason,
} from './broker-status-log';
import { asUri, connectWithRetry } from './startup';

const noStatus = { onStatus: () => () => undefined };

describe('startup connection retry (broker_connection_retry_on_startup)', () => {
  it('logs each failure with its reason in Celery’s words, then connects', async () => {
    let calls = 0;
    const broker = {
      ...noStatus,
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
    const broker = {
      ...noStatus,
      connect: () => Promise.reject(new Error('refused')),
    } as unknown as Broker;
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

  it('prints the target as conn.as_uri() and the reason as str(exc) of the driver', async () => {
    // Celery prints `conn.as_uri()`: no query string, and the node being tried of a failover list.
    expect(asUri('rediss://:pw@127.0.0.1:6380/0?ssl_cert_reqs=required&ssl_ca_certs=/ca.pem')).toBe(
      'rediss://:**@127.0.0.1:6380/0',
    );
    expect(asUri('amqp://u:p@h1:5672//?heartbeat=10;amqp://u:p@h2:5672//')).toBe(
      'amqp://u:**@h1:5672//',
    );
    const driver = new Error('connect ECONNREFUSED 127.0.0.1:2');
    const typed = new BrokerConnectionError(
      `cannot connect to amqp://u:**@h2:5672//: ${driver.message}`,
      { cause: driver },
    );
    expect(printedReason(typed)).toBe(driver);
    // A wrapper that says more than its cause keeps its own words.
    const own = new BrokerConnectionError('broker is closed', { cause: driver });
    expect(printedReason(own)).toBe(own);
    expect(failoverLine('amqp://u:**@h1:5672//', typed)).toBe(
      'consumer: Cannot connect to amqp://u:**@h1:5672//: connect ECONNREFUSED 127.0.0.1:2.\nWill retry using next failover.\n',
    );

    // The broker reports the node it tried: that is the line's target, not the configured URL.
    let listener: BrokerStatusListener | undefined;
    let calls = 0;
    const broker = {
      onStatus: (l: BrokerStatusListener) => {
        listener = l;
        return () => {
          listener = undefined;
        };
      },
      connect: () => {
        calls++;
        listener?.({ state: 'connecting', target: 'amqp://u:**@h2:5672//', attempt: calls });
        return calls < 2 ? Promise.reject(typed) : Promise.resolve();
      },
    } as unknown as Broker;
    const lines: string[] = [];
    await connectWithRetry(broker, {
      retry: true,
      maxRetries: 100,
      target: 'amqp://u:p@h1:5672//?heartbeat=10;amqp://u:p@h2:5672//',
      log: (_l, m) => lines.push(m),
      isStopping: () => false,
      backoff: () => 2000,
    });
    expect(lines).toEqual([
      'consumer: Cannot connect to amqp://u:**@h2:5672//: connect ECONNREFUSED 127.0.0.1:2.\nTrying again in 2.00 seconds... (1/100)\n',
    ]);
    expect(listener).toBeUndefined(); // unsubscribed once connected
  });
});
