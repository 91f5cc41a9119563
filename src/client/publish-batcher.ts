import type { Broker, PublishItem } from '../brokers/broker';
import { TickBatch } from '../util/tick-batch';

/**
 * Coalesces the publishes of one event-loop turn into one `publishMany` per exchange (Redis: one
 * pipeline; AMQP: confirms awaited together), so that `sendTask` called in a loop costs one round
 * trip per burst instead of one per call ({@link TickBatch}).
 *
 * Batches are per exchange so that a publish the broker refuses (AMQP 404 on an unknown exchange)
 * fails its own exchange's calls, as when they were sent one by one, not the whole burst.
 */
export class PublishBatcher {
  private readonly batches = new Map<string, TickBatch<PublishItem>>();

  constructor(
    private readonly broker: () => Promise<Broker>,
    /** Called once per item when its batch is sent, in call order (declare-once bookkeeping). */
    private readonly prepare: (broker: Broker, item: PublishItem) => PublishItem,
  ) {}

  /** Resolves once the broker accepted (Redis: wrote; AMQP: confirmed) the item's batch. */
  publish(item: PublishItem): Promise<void> {
    const ex = item.target.exchange;
    let batch = this.batches.get(ex);
    if (!batch) {
      batch = new TickBatch((items) => this.send(items));
      this.batches.set(ex, batch);
    }
    return batch.add(item);
  }

  private async send(items: readonly PublishItem[]): Promise<void> {
    const broker = await this.broker();
    await broker.publishMany(items.map((item) => this.prepare(broker, item)));
  }
}
