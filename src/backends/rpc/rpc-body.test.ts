import type { Broker, PublishTarget } from '../../brokers/broker';
import { prepareException } from '../../protocol/exception';
import type { CeleryProfileName } from '../../protocol/profiles';
import type { RawMessage } from '../../protocol/raw-message';
import { isPyDict, PyDateTime, type PyValue } from '../../serialization/py-values';
import { listFixtures, loadFixture, toB64 } from '../../../test/support/fixtures';
import { RpcBackend, rpcReplyQueue } from './rpc-backend';

/** Records publishes only: the bytes are compared with what real Celery published. */
function recorder(): { broker: Broker; sent: { message: RawMessage; target: PublishTarget }[] } {
  const sent: { message: RawMessage; target: PublishTarget }[] = [];
  const broker = {
    publish: (message: RawMessage, target: PublishTarget) => {
      sent.push({ message, target });
      return Promise.resolve();
    },
  } as unknown as Broker;
  return { broker, sent };
}

const NOW = new PyDateTime('2026-01-02T03:04:05.678901+00:00');
const cases = listFixtures('rpc-result');

describe('RPC result messages match Celery byte for byte', () => {
  it('has fixtures for every line', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  it.each(cases.map((c) => [c.file, c.line] as const))('%s', async (file, line) => {
    const fx = loadFixture(file);
    const i = fx.input;
    const profile = `celery-${line}` as CeleryProfileName;
    const { broker, sent } = recorder();
    const b = new RpcBackend({ broker, oid: 'unused', profile, now: () => NOW });
    const r = i.result ?? null;
    const isExc = isPyDict(r) && typeof r.exc_type === 'string';
    const result: PyValue = isExc
      ? prepareException({
          excType: r.exc_type as string,
          excModule: (r.exc_module ?? null) as string | null,
          args: r.args as PyValue[],
        })
      : r;
    await b.storeResult(i.task_id as string, result, i.state as string, {
      request: {
        replyTo: i.reply_to as string,
        correlationId: i.correlation_id as string,
        children: [],
      },
    });
    const e = fx.expected;
    expect(sent).toHaveLength(1);
    const [{ message, target }] = sent as [(typeof sent)[0]];
    expect(target).toEqual({ exchange: e.exchange, routingKey: e.routing_key });
    expect(toB64(message.body)).toBe(e.body_b64);
    expect(message.contentType).toBe(e.content_type);
    expect(message.contentEncoding).toBe(e.content_encoding);
    expect(message.headers).toEqual({});
    expect(Object.keys(message.properties)).toEqual(e.properties_order);
    expect(message.properties).toEqual(e.properties);
  });

  it('declares the reply queue with each line’s flags (rpc.py, RPCBackend.binding)', () => {
    expect(rpcReplyQueue('q', 'celery-5.7', undefined)).toEqual({
      name: 'q',
      exchange: '',
      routingKey: 'q',
      durable: true,
      autoDelete: true,
      arguments: { 'x-expires': 86_400_000 },
    });
    expect(rpcReplyQueue('q', 'celery-5.2', 60).durable).toBe(false);
    expect(rpcReplyQueue('q', 'celery-5.2', 60).arguments).toEqual({ 'x-expires': 60_000 });
    expect(rpcReplyQueue('q', 'celery-5.7', null).arguments).toBeUndefined();
  });
});
