import { resolveConfig } from '../config/config';
import { failoverLine, brokerStatusLine } from './broker-status-log';
import { parseBrokerUrls, sanitizeBrokerUrl } from '../brokers/url';

describe('failover lists in configuration and logs', () => {
  it('broker_url as a list is kept in its ;-joined form (kombu Connection alt)', () => {
    const c = resolveConfig({ brokerUrl: ['amqp://a:x@h1//', 'amqp://a:y@h2:5673//'] });
    expect(c.brokerUrl).toBe('amqp://a:x@h1//;amqp://a:y@h2:5673//');
    expect(parseBrokerUrls(c.brokerUrl).map((u) => u.hostname)).toEqual(['h1', 'h2']);
    expect(resolveConfig({ brokerFailoverStrategy: 'shuffle' }).brokerFailoverStrategy).toBe(
      'shuffle',
    );
  });

  it('every password of a failover list is masked', () => {
    expect(sanitizeBrokerUrl('amqp://a:x@h1//;amqp://a:y@h2//')).toBe(
      'amqp://a:**@h1//;amqp://a:**@h2//',
    );
  });

  it("a skipped node is logged as Celery's CONNECTION_ERROR + CONNECTION_FAILOVER", () => {
    const reason = new Error('connect ECONNREFUSED 127.0.0.1:5681');
    const expected =
      'consumer: Cannot connect to amqp://guest:**@127.0.0.1:5681//: connect ECONNREFUSED ' +
      '127.0.0.1:5681.\nWill retry using next failover.\n';
    expect(failoverLine('amqp://guest:**@127.0.0.1:5681//', reason)).toBe(expected);
    expect(
      brokerStatusLine({
        state: 'reconnecting',
        target: 'amqp://guest:**@127.0.0.1:5681//',
        attempt: 1,
        delayMs: 0,
        reason,
        failover: true,
      }),
    ).toEqual({ level: 'error', msg: expected });
  });
});
