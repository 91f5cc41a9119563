import type { Broker, PublishItem, PublishOptions, PublishTarget } from '../brokers/broker';
import type { RawMessage } from '../protocol/raw-message';
import { taskMessageIdentity } from '../protocol/trace-context';
import type { Instrumentation, PublishScope } from './instrumentation';

/**
 * `broker` with `instrumentation.publish` around every task message it publishes. Wrapping the
 * broker (at composition, `src/app`) reaches every publisher at once — client, canvas, worker
 * retries and callbacks, beat — as Celery's publish signals do (they fire in
 * `celery/app/amqp.py`, `send_task_message`, the one path every task message takes). Messages
 * that are not task messages (events, control, rpc results) pass through untouched.
 */
export function instrumentBroker(broker: Broker, instrumentation: Instrumentation): Broker {
  const hook = instrumentation.publish?.bind(instrumentation);
  if (!hook) return broker;
  const begin = (
    items: readonly PublishItem[],
  ): { items: PublishItem[]; scopes: PublishScope[] } => {
    const scopes: PublishScope[] = [];
    const out = items.map((item) => {
      const who = taskMessageIdentity(item.message);
      const scope = who ? hook({ ...who, item }) : undefined;
      if (!scope) return item;
      scopes.push(scope);
      return scope.item ?? item;
    });
    return { items: out, scopes };
  };
  const settle = async (scopes: readonly PublishScope[], p: Promise<void>): Promise<void> => {
    try {
      await p;
    } catch (e) {
      for (const s of scopes) s.end(e);
      throw e;
    }
    for (const s of scopes) s.end();
  };
  const publishMany = (items: readonly PublishItem[]): Promise<void> => {
    const b = begin(items);
    if (b.scopes.length === 0) return broker.publishMany(items);
    return settle(b.scopes, broker.publishMany(b.items));
  };
  const publish = (
    message: RawMessage,
    target: PublishTarget,
    opts?: PublishOptions,
  ): Promise<void> => {
    const b = begin([{ message, target, ...(opts ? { opts } : {}) }]);
    const first = b.items[0];
    if (b.scopes.length === 0 || !first) return broker.publish(message, target, opts);
    return settle(b.scopes, broker.publish(first.message, target, opts));
  };
  // A Proxy, not a subclass: every other member (capabilities, consume, fanout, onStatus, …)
  // is the broker's own, bound to it, so feature checks such as `isFanoutBroker` still hold.
  return new Proxy(broker, {
    get(target, prop, receiver) {
      if (prop === 'publishMany') return publishMany;
      if (prop === 'publish') return publish;
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
