import type { Delivery } from '../brokers/broker';

/**
 * The identity of one broker delivery: queue + consumer session + delivery tag. Two copies of
 * one task message (a redelivery after a reset, a restore after a visibility timeout) are two
 * deliveries with two keys, so the pool never confuses them (Celery keys `active_requests` by
 * request object, not by task id, for the same reason).
 */
export function deliveryKey(d: Delivery): string {
  return `${d.queue}\u0000${String(d.session)}\u0000${String(d.deliveryTag)}`;
}

/** True once the broker took this delivery back (its ack/reject are no-ops). */
export function isVoid(d: Delivery): boolean {
  return d.isVoid;
}
