import type { Broker, PublishTarget } from '../brokers/broker';
import { LamportClock } from '../events/clock';
import type { RawMessage } from '../protocol/raw-message';
import { pyJsonLoads } from '../serialization/python-json';
import { PidboxNode, ok, type ControlHandler } from './pidbox';

/** Records what the node publishes (a test double for the reply path, not a broker test). */
function recorder(): { broker: Broker; sent: [RawMessage, PublishTarget][] } {
  const sent: [RawMessage, PublishTarget][] = [];
  const broker = {
    publish: (m: RawMessage, t: PublishTarget) => {
      sent.push([m, t]);
      return Promise.resolve();
    },
  } as unknown as Broker;
  return { broker, sent };
}

describe('pidbox node (kombu/pidbox.py Node.handle_message, dispatch, _publish_reply)', () => {
  const handlers = new Map<string, ControlHandler>([['ping', () => ok('pong')]]);
  const replyTo = { exchange: 'reply.celery.pidbox', routing_key: 'oid-1' };

  it('replies {hostname: value} with ticket and clock headers, delivery_mode 1', async () => {
    const { broker, sent } = recorder();
    const node = new PidboxNode({ broker, hostname: 'w@h', clock: new LamportClock(), handlers });
    const body = {
      method: 'ping',
      arguments: {},
      destination: null,
      pattern: null,
      matcher: null,
      ticket: 't-1',
      reply_to: replyTo,
    };
    expect(await node.handle(body)).toEqual({ ok: 'pong' });
    expect(sent).toHaveLength(1);
    const [msg, target] = sent[0] ?? [];
    expect(target).toEqual({ exchange: 'reply.celery.pidbox', routingKey: 'oid-1' });
    expect(msg?.headers).toEqual({ ticket: 't-1', clock: 1 });
    expect(msg?.properties.delivery_mode).toBe(1);
    expect(pyJsonLoads(new TextDecoder().decode(msg?.body))).toEqual({ 'w@h': { ok: 'pong' } });
  });

  it('honours destination lists and glob patterns; unknown methods reply a KeyError', async () => {
    const { broker, sent } = recorder();
    const node = new PidboxNode({ broker, hostname: 'w@h', clock: new LamportClock(), handlers });
    expect(await node.handle({ method: 'ping', destination: ['other@h'] })).toBeUndefined();
    expect(await node.handle({ method: 'ping', pattern: 'w@*', matcher: 'glob' })).toEqual({
      ok: 'pong',
    });
    expect(await node.handle({ method: 'ping', pattern: 'x@*', matcher: 'glob' })).toBeUndefined();
    expect(await node.handle({ method: 'nope', ticket: 't', reply_to: replyTo })).toEqual({
      error: "KeyError('nope')",
    });
    expect(sent).toHaveLength(1);
  });
});
