import type { ConsumeOptions, Delivery } from '../brokers/broker';

/**
 * The issue-8 broker contract members (`src/brokers/broker.ts`), read structurally so the worker
 * also runs on a transport that does not implement them yet: a missing `session` is session 0,
 * a missing `isVoid` is "still valid".
 */
export interface ContractDelivery {
  readonly session?: number;
  readonly isVoid?: boolean;
}

export type BrokerStatusLike =
  | { readonly state: 'connecting'; readonly target: string; readonly attempt: number }
  | { readonly state: 'connected'; readonly target: string }
  | { readonly state: 'lost'; readonly target: string; readonly reason: Error }
  | {
      readonly state: 'reconnecting';
      readonly target: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly reason: Error;
      /** A failover list moves on to its next node at once (`Will retry using next failover.`). */
      readonly failover?: boolean;
    }
  | { readonly state: 'gave-up'; readonly target: string; readonly reason: Error };

export interface ContractBroker {
  onStatus?(listener: (status: BrokerStatusLike) => void): () => void;
}

export interface ContractConsumer {
  readonly queues?: readonly string[];
  addQueue?(queue: string): Promise<void>;
  cancelQueue?(queue: string): Promise<void>;
}

export type ContractConsumeOptions = ConsumeOptions & { onReset?: (reason: Error) => void };

/**
 * The identity of one broker delivery: queue + consumer session + delivery tag. Two copies of
 * one task message (a redelivery after a reset, a restore after a visibility timeout) are two
 * deliveries with two keys, so the pool never confuses them (Celery keys `active_requests` by
 * request object, not by task id, for the same reason).
 */
export function deliveryKey(d: Delivery): string {
  const cd: ContractDelivery = d;
  const session = cd.session ?? 0;
  return `${d.queue}\u0000${String(session)}\u0000${String(d.deliveryTag)}`;
}

/** True once the broker took this delivery back (its ack/reject are no-ops). */
export function isVoid(d: Delivery): boolean {
  const cd: ContractDelivery = d;
  return cd.isVoid === true;
}

/** A broker seen through the contract (structural: any transport is accepted). */
export function contractBroker(b: ContractBroker): ContractBroker {
  return b;
}

/** A consumer seen through the contract. */
export function contractConsumer(c: ContractConsumer): ContractConsumer {
  return c;
}
