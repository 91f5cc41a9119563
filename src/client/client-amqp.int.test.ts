import { prioritySuite } from '../../test/support/client/priority';
import { AMQP_URL, clientSuite, REDIS_URL } from '../../test/support/client/scenarios';

// Node calls Python over RabbitMQ, results in Redis and over RPC (reply queue), both lines.
clientSuite({ broker: AMQP_URL, backend: REDIS_URL, line: '5.7' });
clientSuite({ broker: AMQP_URL, backend: 'rpc://', line: '5.7' });
clientSuite({ broker: AMQP_URL, backend: 'rpc://', line: '5.2' });
clientSuite({ broker: AMQP_URL, backend: REDIS_URL, line: '5.2' });

describe('priorities', () => {
  // RabbitMQ: x-max-priority queue, higher number first.
  prioritySuite(AMQP_URL, REDIS_URL, [9, 6, 3, 0]);
});
