import { prioritySuite } from '../../test/support/client/priority';
import { clientSuite, REDIS_URL } from '../../test/support/client/scenarios';

// Node calls Python over the kombu Redis transport with the Redis result backend, both lines.
clientSuite({ broker: REDIS_URL, backend: REDIS_URL, line: '5.7' });
clientSuite({ broker: REDIS_URL, backend: REDIS_URL, line: '5.2' });

describe('priorities', () => {
  // kombu Redis: one list per priority step, lower number first.
  prioritySuite(REDIS_URL, REDIS_URL, [0, 3, 6, 9]);
});
