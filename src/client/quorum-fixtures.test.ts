import { listFixtures, loadFixture } from '../../test/support/fixtures';
import { resolveConfig, type CeleryLine } from '../config/config';
import type { CeleryProfileName } from '../protocol/profiles';
import type { PyDateTime, PyValue } from '../serialization/py-values';
import { CeleryClient } from './client';

/**
 * Golden fixtures `quorum/*` (python-peers/fixtures/quorum_publish.py): where a real Celery
 * 5.5 / 5.6 / 5.7 client publishes countdown/eta tasks in a quorum-queue estate — exchange,
 * 28-bit routing key, whether the queue is declared, the `eta` header, Celery's warning for a
 * direct exchange — reproduced by {@link CeleryClient.prepare}.
 */
interface Published {
  exchange: string;
  routing_key: string;
  declare: string[];
  headers: Record<string, PyValue>;
}

const cases = listFixtures('quorum');

test('quorum fixtures exist for 5.5, 5.6 and 5.7', () => {
  expect(new Set(cases.map((c) => c.line))).toEqual(new Set(['5.5', '5.6', '5.7']));
});

describe.each(cases)('$file', ({ file, line }) => {
  test('client publishes where Celery does', () => {
    const fx = loadFixture(file, line);
    const input = fx.input as Record<string, unknown>;
    const now = new Date((input.now as PyDateTime).iso);
    const queue = input.queue as string;
    const settings = resolveConfig({
      brokerUrl: 'amqp://guest:guest@127.0.0.1:5672//',
      celeryLine: line as CeleryLine,
      taskDefaultQueue: queue,
      taskDefaultExchange: queue,
      taskDefaultRoutingKey: queue,
      taskDefaultExchangeType: input.exchange_type as 'topic' | 'direct',
      taskDefaultQueueType: input.queue_type as 'classic' | 'quorum',
    });
    const client = new CeleryClient({
      settings,
      profile: `celery-${line}` as CeleryProfileName,
      env: { now: () => now, uuid: () => 'unused', origin: 'gen4242@fixture-host', oid: 'oid' },
      broker: () => Promise.reject(new Error('no broker in unit tests')),
      backend: () => Promise.reject(new Error('no backend in unit tests')),
    });
    const opts = input.options as { countdown?: number; eta_seconds?: number };
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const p = client.prepare('quorum.add', {
        args: [2, 3],
        taskId: input.task_id as string,
        ...(opts.countdown === undefined ? {} : { countdown: opts.countdown }),
        ...(opts.eta_seconds === undefined
          ? {}
          : { eta: new Date(now.getTime() + opts.eta_seconds * 1000) }),
      });
      const [want] = fx.expected.publish as unknown as Published[];
      expect(p.item.target.exchange).toBe(want?.exchange);
      expect(p.item.target.routingKey).toBe(want?.routing_key);
      expect(p.item.target.queue?.name === undefined ? [] : [p.item.target.queue.name]).toEqual(
        want?.declare,
      );
      // A JS Date carries milliseconds only: the eta agrees to the millisecond.
      const ms = (v: PyValue | undefined): string | null =>
        typeof v === 'string' ? v.slice(0, 23) : null;
      expect(ms(p.item.message.headers.eta)).toEqual(ms(want?.headers.eta));
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual(fx.expected.warnings);
    } finally {
      warn.mockRestore();
    }
  });
});
