import { casesFor, mismatch } from '../../test/support/worker/catalogue-cases';
import {
  AMQP_URL,
  REDIS_URL,
  peerEnv,
  produce,
  startWorker,
  uniq,
} from '../../test/support/worker/int-helpers';

jest.setTimeout(90_000);

/** Python Celery producers → RabbitMQ → our worker, with the Redis and the rpc:// backends. */
describe('TypeScript worker on RabbitMQ, called by Python Celery', () => {
  const names = [
    'add',
    'echo',
    'identity',
    'failKey',
    'retry2',
    'retryMax',
    'soft',
    'unknown',
    'expired',
    'countdown',
  ];

  it.each([
    ['redis', '5.7', 2],
    ['rpc', '5.7', 2],
    ['rpc', '5.7', 1],
    ['redis', '5.2', 2],
  ] as const)('backend %s, Celery %s, protocol %i', async (kind, line, protocol) => {
    const backend = kind === 'redis' ? REDIS_URL : 'rpc://';
    const q = uniq('ts-amqp');
    const w = await startWorker(
      { brokerUrl: AMQP_URL, resultBackend: backend, celeryLine: line },
      { queues: [q] },
    );
    try {
      const env = peerEnv({ broker: AMQP_URL, backend, protocol });
      const use = names;
      const cases = casesFor(use, uniq(`a${kind}${line}`));
      const out = await produce(env, q, cases, line);
      const problems = use
        .map((n, i) => mismatch(n, out[cases[i]?.id ?? '']))
        .filter((m) => m !== null);
      expect(problems).toEqual([]);
    } finally {
      await w.shutdown();
    }
  });
});
