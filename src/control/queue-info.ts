import type { QueueSpec } from '../brokers/broker';
import type { PyValue } from '../serialization/py-values';

/** `dict(queue.as_dict(recurse=True))` of a consumed queue (`active_queues`, kombu `Queue`). */
export function queueAsDict(q: QueueSpec): PyValue {
  return {
    name: q.name,
    exchange: {
      name: q.exchange ?? q.name,
      type: q.exchangeType ?? 'direct',
      arguments: null,
      durable: true,
      passive: false,
      auto_delete: false,
      delivery_mode: null,
      no_declare: false,
    },
    routing_key: q.routingKey ?? q.name,
    queue_arguments: null,
    binding_arguments: null,
    consumer_arguments: null,
    durable: true,
    exclusive: false,
    auto_delete: false,
    no_ack: false,
    alias: null,
    bindings: [],
    no_declare: null,
    expires: null,
    message_ttl: null,
    max_length: null,
    max_length_bytes: null,
    max_priority: null,
  };
}
