import { execFile } from 'node:child_process';
import { AmqpBroker } from '../../src/brokers/amqp/amqp-broker';
import type { Delivery } from '../../src/brokers/broker';
import { PyDateTime, PyDecimal, PyFloat } from '../../src/serialization/py-values';
import { CHAOS_AMQP, sleep } from '../support/worker/chaos';
import { python, uniq } from '../support/worker/int-helpers';
import { rabbitmqctl } from './amqp-chaos-support';

jest.setTimeout(120_000);

/**
 * Real Celery (5.7 and 5.2, i.e. kombu + py-amqp) publishing custom headers of every type
 * py-amqp writes: `L` (int64), `D` (Decimal), `T` (datetime), `F` (nested dict), `A` (list),
 * bytes, bool, float. A second script writes a `T` timestamp no Python `datetime` can hold
 * (through py-amqp's own writer, monkeypatched to emit it), which must be dead-lettered with a
 * log while the next message runs.
 */
const SEND = `
import os, sys
from decimal import Decimal
from datetime import datetime
from struct import pack
from celery import Celery
import amqp.serialization as S

class FarFuture: pass
_orig = S._write_item
def _write_item(v, write, bits):
    if isinstance(v, FarFuture):
        write(pack('>cQ', b'T', 2 ** 62))  # a timestamp past year 9999
        return
    return _orig(v, write, bits)
S._write_item = _write_item

app = Celery('h', broker=os.environ['CELERY_BROKER_URL'])
q = os.environ['Q']
headers = {
    'x_int64': 2 ** 53 + 1, 'x_neg64': -(2 ** 62), 'x_int': 7, 'x_dec': Decimal('-123.45'),
    'x_ts': datetime(2024, 1, 2, 3, 4, 5), 'x_nested': {'a': [1, 'x', {'b': None}], 'f': 1.0},
    'x_arr': [True, 2.5, b'\\xff\\x00'], 'x_bytes': b'\\xff\\xfe', 'x_bool': True, 'x_float': 3.25,
}
if os.environ.get('BAD'):
    app.send_task('h.bad', args=[0], queue=q, headers={'x_far': FarFuture()}, task_id='bad')
app.send_task('h.t', args=[1], queue=q, headers=headers, task_id='good')
`;

function send(line: '5.7' | '5.2', queue: string, bad: boolean): Promise<void> {
  return new Promise((res, rej) => {
    execFile(
      python(line),
      ['-c', SEND],
      {
        env: {
          ...process.env,
          CELERY_BROKER_URL: CHAOS_AMQP,
          Q: queue,
          ...(bad ? { BAD: '1' } : {}),
        },
        timeout: 60_000,
      },
      (err, _out, stderr) => {
        if (err) rej(new Error(`${err.message}\n${stderr}`));
        else res();
      },
    );
  });
}

describe.each(['5.7', '5.2'] as const)('py-amqp headers from Celery %s', (line) => {
  it('are read exactly: int64 as bigint, Decimal, datetime, nested table, array, bytes', async () => {
    const warnings: string[] = [];
    const broker = new AmqpBroker({ url: CHAOS_AMQP, warn: (m) => warnings.push(m) });
    const queue = uniq('cw-amqp-headers');
    const dlq = `${queue}.dlq`;
    const policy = `${queue}-dlx`;
    const got: Delivery[] = [];
    // The dead-lettered message is counted, not consumed: it still carries the bad header.
    const deadCount = async (): Promise<string> => {
      const out = await rabbitmqctl(['list_queues', '-q', 'name', 'messages']);
      return /^(\S+)\s+(\d+)$/m.test(out)
        ? (out
            .split('\n')
            .find((l) => l.startsWith(`${dlq}\t`))
            ?.split('\t')[1] ?? '0')
        : '0';
    };
    try {
      await broker.declareQueue({ name: dlq, exchange: '' });
      // A DLX by policy on this queue only (Celery's own declaration carries no x-arguments,
      // so arguments would conflict with it: 406).
      await rabbitmqctl([
        'set_policy',
        '--apply-to',
        'queues',
        '--priority',
        '100',
        policy,
        `^${queue}$`,
        JSON.stringify({ 'dead-letter-exchange': '', 'dead-letter-routing-key': dlq }),
      ]);
      await broker.declareQueue({ name: queue });
      await broker.consume([queue], async (d) => {
        got.push(d);
        await d.ack();
      });
      await send(line, queue, true);
      const end = Date.now() + 20_000;
      while (got.length < 1 && Date.now() < end) await sleep(50);
      let dead = await deadCount();
      while (dead !== '1' && Date.now() < end) {
        await sleep(200);
        dead = await deadCount();
      }

      expect(got.map((d) => d.message.headers.id)).toEqual(['good']);
      const h = got[0]?.message.headers ?? {};
      expect(h.x_int64).toBe(2n ** 53n + 1n);
      expect(h.x_neg64).toBe(-(2n ** 62n));
      expect(h.x_int).toBe(7);
      expect(h.x_dec).toEqual(new PyDecimal('-123.45'));
      expect(h.x_ts).toEqual(new PyDateTime('2024-01-02T03:04:05'));
      expect(h.x_nested).toEqual({ a: [1, 'x', { b: null }], f: new PyFloat(1) });
      expect(h.x_arr).toEqual([true, 2.5, new Uint8Array([0xff, 0])]);
      expect(h.x_bytes).toEqual(new Uint8Array([0xff, 0xfe]));
      expect(h.x_bool).toBe(true);
      expect(h.x_float).toBe(3.25);
      expect(h.task).toBe('h.t'); // Celery's own headers are still there

      // The undecodable one went to the dead-letter queue, logged with queue and delivery tag,
      // and the good message behind it ran.
      expect(dead).toBe('1');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        new RegExp(`queue ${queue} \\(delivery tag \\d+\\).*timestamp out of range`),
      );
    } finally {
      await broker.close();
      await rabbitmqctl(['delete_queue', queue]).catch(() => undefined);
      await rabbitmqctl(['delete_queue', dlq]).catch(() => undefined);
      await rabbitmqctl(['clear_policy', policy]).catch(() => undefined);
    }
  });
});
