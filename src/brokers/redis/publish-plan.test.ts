import type { RawMessage } from '../../protocol/raw-message';
import { bindingMember, fanoutChannel, PRIORITY_SEP } from '../../protocol/redis-keys';
import type { ExchangeType, PublishItem } from '../broker';
import {
  collectDeclarations,
  exchangesToLookup,
  MAX_LPUSH_VALUES,
  planPublishes,
  type PlanContext,
} from './publish-plan';

function msg(n: number, priority?: number): RawMessage {
  return {
    body: new Uint8Array([n]),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: { n },
    properties: priority === undefined ? {} : { priority },
  };
}

function ctx(
  types: Record<string, ExchangeType>,
  members: Record<string, string[]>,
): PlanContext & { encoded: number } {
  const c = {
    encoded: 0,
    typeOf: (ex: string) => types[ex],
    members: new Map(Object.entries(members)),
    encode: (m: RawMessage, di: { exchange: string; routing_key: string }) => {
      c.encoded++;
      return `${JSON.stringify(m.headers.n)}@${di.exchange}/${di.routing_key}`;
    },
    db: 0,
  };
  return c;
}

describe('publish plan', () => {
  it('declares each distinct binding once, skipping the anonymous exchange', () => {
    const q = { name: 'q1' };
    const items: PublishItem[] = [
      { message: msg(1), target: { exchange: 'q1', routingKey: 'q1', queue: q } },
      { message: msg(2), target: { exchange: 'q1', routingKey: 'q1', queue: { name: 'q1' } } },
      {
        message: msg(3),
        target: { exchange: '', routingKey: 'q2', queue: { name: 'q2', exchange: '' } },
      },
      {
        message: msg(4),
        target: {
          exchange: 't',
          routingKey: 'a.b',
          queue: { name: 'q3', exchange: 't', exchangeType: 'topic', routingKey: 'a.*' },
        },
      },
    ];
    const d = collectDeclarations(items);
    expect(d.map((x) => [x.key, x.member, x.type])).toEqual([
      ['_kombu.binding.q1', bindingMember('q1', '', 'q1'), 'direct'],
      ['_kombu.binding.t', bindingMember('a.*', '^a\\.[^\\.]+$', 'q3'), 'topic'],
    ]);
  });

  it('looks up each named non-fanout exchange once', () => {
    const items: PublishItem[] = ['a', '', 'a', 'f', 'b'].map((ex, i) => ({
      message: msg(i),
      target: { exchange: ex, routingKey: 'k' },
    }));
    expect(exchangesToLookup(items, (ex) => (ex === 'f' ? 'fanout' : undefined))).toEqual([
      'a',
      'b',
    ]);
  });

  it('merges adjacent LPUSHes to one key, keeps order, splits by priority and key', () => {
    const items: PublishItem[] = [
      { message: msg(1), target: { exchange: '', routingKey: 'q' } },
      { message: msg(2), target: { exchange: '', routingKey: 'q' } },
      { message: msg(3, 5), target: { exchange: '', routingKey: 'q' } },
      { message: msg(4), target: { exchange: '', routingKey: 'q' } },
      { message: msg(5), target: { exchange: 'd', routingKey: 'k' } },
    ];
    const c = ctx({}, { d: [bindingMember('k', '', 'q'), bindingMember('k', '', 'r')] });
    expect(planPublishes(items, c)).toEqual([
      { kind: 'lpush', key: 'q', values: ['1@/q', '2@/q'] },
      { kind: 'lpush', key: `q${PRIORITY_SEP}3`, values: ['3@/q'] },
      { kind: 'lpush', key: 'q', values: ['4@/q', '5@d/k'] },
      // One message routed to two queues: the same text (one delivery tag), as kombu `_put`s it.
      { kind: 'lpush', key: 'r', values: ['5@d/k'] },
    ]);
    expect(c.encoded).toBe(5);
  });

  it('PUBLISHes to fanout exchanges and drops unroutable messages', () => {
    const items: PublishItem[] = [
      { message: msg(1), target: { exchange: 'bcast', routingKey: 'x' } },
      { message: msg(2), target: { exchange: 'nobody', routingKey: 'x' } },
    ];
    const c = ctx({ bcast: 'fanout' }, { nobody: [] });
    expect(planPublishes(items, c)).toEqual([
      { kind: 'publish', channel: fanoutChannel('bcast', 'x', { db: 0 }), value: '1@bcast/x' },
    ]);
  });

  it(`caps a variadic LPUSH at ${String(MAX_LPUSH_VALUES)} values`, () => {
    const n = MAX_LPUSH_VALUES + 3;
    const items: PublishItem[] = Array.from({ length: n }, (_, i) => ({
      message: msg(i % 256),
      target: { exchange: '', routingKey: 'q' },
    }));
    const cmds = planPublishes(items, ctx({}, {}));
    expect(cmds.map((c) => (c.kind === 'lpush' ? c.values.length : -1))).toEqual([
      MAX_LPUSH_VALUES,
      3,
    ]);
  });
});
