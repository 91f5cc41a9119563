import type { Broker, PublishItem } from '../brokers/broker';
import type { RawMessage } from '../protocol/raw-message';
import { PublishBatcher } from './publish-batcher';

const item = (exchange: string, n: number): PublishItem => ({
  message: { body: new Uint8Array([n]) } as unknown as RawMessage,
  target: { exchange, routingKey: String(n) },
});

function fakeBroker(failExchange?: string): { broker: Broker; batches: string[][] } {
  const batches: string[][] = [];
  const broker = {
    publishMany(items: readonly PublishItem[]): Promise<void> {
      batches.push(items.map((i) => `${i.target.exchange}:${i.target.routingKey}`));
      return items[0]?.target.exchange === failExchange
        ? Promise.reject(new Error('NOT_FOUND'))
        : Promise.resolve();
    },
  } as unknown as Broker;
  return { broker, batches };
}

describe('PublishBatcher', () => {
  it('sends the publishes of one turn as one batch per exchange, in call order', async () => {
    const { broker, batches } = fakeBroker();
    const seen: string[] = [];
    const b = new PublishBatcher(
      () => Promise.resolve(broker),
      (_b, i) => {
        seen.push(i.target.routingKey);
        return i;
      },
    );
    await Promise.all([b.publish(item('x', 1)), b.publish(item('y', 2)), b.publish(item('x', 3))]);
    await b.publish(item('x', 4));
    expect(batches).toEqual([['x:1', 'x:3'], ['y:2'], ['x:4']]);
    expect(seen).toEqual(['1', '3', '2', '4']);
  });

  it("a refused exchange fails its own calls, not the other exchange's", async () => {
    const { broker } = fakeBroker('bad');
    const b = new PublishBatcher(
      () => Promise.resolve(broker),
      (_b, i) => i,
    );
    const bad = b.publish(item('bad', 1));
    const good = b.publish(item('good', 2));
    await expect(bad).rejects.toThrow('NOT_FOUND');
    await expect(good).resolves.toBeUndefined();
  });
});
