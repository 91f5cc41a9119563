import { decodeRedisEnvelope } from '../protocol/redis-envelope';
import { encodeTaskMessage } from '../protocol/task-message';
import { PyDateTime, PyFloat, type PyValue } from '../serialization/py-values';
import { decodeTaskMessage } from '../protocol/task-decode';
import { loadFixture } from '../../test/support/fixtures';
import { toTaskInput } from './apply-options';
import { fromCeleryOptions } from './celery-options';

type Dict = Record<string, PyValue>;
const defaults = {
  serializer: 'json',
  compression: null,
  protocol: 2,
  deliveryMode: 2,
  profile: 'celery-5.7',
  jsonDialect: 'kombu-5.3',
} as const;
const env = { now: new Date('2026-01-02T03:04:05.678Z'), origin: 'gen1@h', replyTo: 'r' };

/** The next chain step as a worker finds it in the embed of Celery's first message. */
function nextStep(line: string, workflow: string): Dict {
  const fx = loadFixture(`celery-${line}/canvas/v2-${workflow}.json`, line);
  const first = (fx.expected.messages as Dict[])[0]!;
  const raw = decodeRedisEnvelope((first.redis as Dict).envelope as string).message;
  const step = decodeTaskMessage(raw).embed.chain?.[0];
  if (!step) throw new Error('no chain step');
  return step.options as Dict;
}

describe('Celery apply options → task input (one table for client, canvas, retry)', () => {
  it.each(['5.7', '5.2'])(
    'keeps the datetime eta/expires of a chain step decoded from Celery %s',
    (line) => {
      const opts = nextStep(line, 'chain-step-datetimes');
      const { apply } = fromCeleryOptions(opts);
      // kombu ≥5.3 sends tagged datetimes (decoded to PyDateTime); older kombu plain ISO text.
      if (line === '5.7') expect(apply.eta).toBeInstanceOf(PyDateTime);
      else expect(typeof apply.eta).toBe('string');
      const msg = encodeTaskMessage(
        toTaskInput('tasks.mul', 'id-1', apply, defaults, undefined),
        env,
      );
      const iso = line === '5.7' ? '+00:00' : 'Z';
      expect(msg.headers.eta).toBe(`2026-01-02T04:00:00.250000${iso}`);
      expect(msg.headers.expires).toBe(`2026-01-03T04:00:00${iso}`);
    },
  );

  it('maps delivery_mode names and consumes exchange_type (never a message property)', () => {
    const { apply } = fromCeleryOptions(nextStep('5.7', 'chain-step-routing'));
    expect(apply.deliveryMode).toBe(1);
    const routed = fromCeleryOptions({
      exchange_type: 'topic',
      delivery_mode: 2,
      timeout: 3,
      task_type: 'x',
    });
    expect(routed.apply).toEqual({ exchangeType: 'topic', deliveryMode: 2 });
    const msg = encodeTaskMessage(
      toTaskInput('t', 'i', routed.apply, { ...defaults, deliveryMode: 1 }, undefined),
      env,
    );
    expect(msg.properties.delivery_mode).toBe(2);
    expect('exchange_type' in msg.properties).toBe(false);
    const nested = fromCeleryOptions({ replaced_task_nesting: 2 }).apply;
    const h = encodeTaskMessage(toTaskInput('t', 'i', nested, defaults, undefined), env).headers;
    expect(h.replaced_task_nesting).toBe(2);
  });

  it('keeps float time limits floats and leaves unknown options as properties', () => {
    const { apply } = fromCeleryOptions({
      time_limit: new PyFloat(10),
      countdown: new PyFloat(1.5),
      x_custom: 'v',
      queue: null,
    });
    expect(apply.timeLimit).toEqual(new PyFloat(10));
    expect(apply.countdown).toBe(1.5);
    expect(apply.properties).toEqual({ x_custom: 'v' });
    expect('queue' in apply).toBe(false);
  });
});
